import Hummingbird

/// The request context of the API: Hummingbird's core storage plus who is calling.
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    var principal: Principal = .open

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}
