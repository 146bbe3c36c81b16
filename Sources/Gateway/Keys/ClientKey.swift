import Foundation
import HTTPTypes

/// Who a request is from, as the limits and everything shown see it. The secret itself is
/// never kept here: only a configured name or a fingerprint.
public struct ClientKey: Sendable, Hashable {
    /// The configured name, or `key-` + 12 hex digits of a fingerprint of the secret.
    public var id: String
    /// Configured tenant; an unlisted key is its own tenant.
    public var tenant: String
    /// Listed in the configuration.
    public var known: Bool

    public init(id: String, tenant: String, known: Bool) {
        self.id = id; self.tenant = tenant; self.known = known
    }

    /// The API key of a request: `Authorization: Bearer KEY`, else `x-api-key: KEY`.
    public static func secret(in headers: HTTPFields) -> String? {
        secret(authorization: headers[.authorization], apiKey: headers[ClientKey.apiKeyHeader])
    }

    /// The API key of a request from its two fields' values: a bearer token, else `x-api-key`.
    static func secret(authorization: String?, apiKey: String?) -> String? {
        if let authorization, let key = bearer(authorization) { return key }
        if let key = apiKey.map(trimmed), !key.isEmpty { return key }
        return nil
    }

    /// The key of `Bearer KEY` (scheme in any case, spaces or tabs around), read on the UTF-8
    /// bytes: this runs for every request.
    static func bearer(_ field: String) -> String? {
        let utf8 = field.utf8
        var i = utf8.startIndex
        while i < utf8.endIndex, utf8[i] == 0x20 || utf8[i] == 0x09 { i = utf8.index(after: i) }
        for letter in "bearer".utf8 {
            guard i < utf8.endIndex, utf8[i] | 0x20 == letter else { return nil }
            i = utf8.index(after: i)
        }
        guard i < utf8.endIndex, utf8[i] == 0x20 || utf8[i] == 0x09 else { return nil }
        let key = trimmed(String(field[i...]))
        return key.isEmpty ? nil : key
    }

    /// Without leading and trailing spaces and tabs.
    static func trimmed(_ text: String) -> String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = text.firstIndex(where: { !isBlank($0) }), let last = text.lastIndex(where: { !isBlank($0) }) else { return "" }
        return String(text[first...last])
    }

    static let apiKeyHeader = HTTPField.Name("x-api-key")!

    /// `key-` and 12 hex digits (48 bits) of a 64-bit FNV-1a hash of the secret, finished with
    /// the SplitMix64 mixer: stable across runs (logs can be compared), short, and far too
    /// little to recover a key from.
    public static func fingerprint(_ secret: String) -> String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in secret.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        h = (h ^ (h >> 30)) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ (h >> 27)) &* 0x94D0_49BB_1331_11EB
        h ^= h >> 31
        let hex = String(h >> 16, radix: 16)
        return "key-" + String(repeating: "0", count: 12 - hex.count) + hex
    }
}

/// The configured keys by secret.
struct KeyDirectory: Sendable {
    private let entries: [String: ClientKey]
    let refuseUnknown: Bool

    init(_ keys: [KeyEntry], refuseUnknown: Bool) {
        var e: [String: ClientKey] = [:]
        for k in keys { e[k.secret] = ClientKey(id: k.name, tenant: k.tenant ?? k.name, known: true) }
        entries = e
        self.refuseUnknown = refuseUnknown
    }

    /// The client for `secret`; nil when unknown keys are refused and this one is not listed.
    func client(for secret: String) -> ClientKey? {
        if let known = entries[secret] { return known }
        if refuseUnknown { return nil }
        let id = ClientKey.fingerprint(secret)
        return ClientKey(id: id, tenant: id, known: false)
    }
}
