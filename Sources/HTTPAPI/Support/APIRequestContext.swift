import Foundation
import Hummingbird
import MemoryService

/// The request context of the API: Hummingbird's core storage plus who is calling.
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    var principal: Principal = .open

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// A path parameter with its percent-encoding undone (`a%3A1` is the id `a:1`).
    func path(_ name: String) throws -> String {
        let raw = try parameters.require(name)
        guard let decoded = raw.removingPercentEncoding else {
            throw APIError.invalid(name, "is not valid percent-encoding")
        }
        return decoded
    }
}
