import Foundation

/// Why a configured model provider (embeddings, LLM) cannot start: exit 78, as for a bad
/// configuration.
struct ProviderSetupError: Error, CustomStringConvertible {
    var description: String
}

/// Secrets read at start, never logged: API keys of model providers.
enum Credential {
    /// The secret in `file` (a relative name is looked up in `$CREDENTIALS_DIRECTORY`, systemd's
    /// `LoadCredential=`, first), else in the credential `credential`; nil when neither exists.
    /// `key` names the configuration key in errors.
    static func read(file: String?, key: String, credential: String, environment: [String: String]) throws -> String? {
        let credentials = environment["CREDENTIALS_DIRECTORY"]
        var candidates: [String] = []
        if let file {
            if let credentials, !file.hasPrefix("/") { candidates.append(credentials + "/" + file) }
            candidates.append(file)
        } else if let credentials {
            candidates.append(credentials + "/" + credential)
        }
        for path in candidates where FileManager.default.fileExists(atPath: path) {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ProviderSetupError(description: "\(key): cannot read \(path)")
            }
            let secret = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !secret.isEmpty else { throw ProviderSetupError(description: "\(key): \(path) is empty") }
            return secret
        }
        if let file { throw ProviderSetupError(description: "\(key): \(file) does not exist") }
        return nil
    }
}
