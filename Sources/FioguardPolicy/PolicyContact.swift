public import FioguardJSON

/// The policy's optional `contact`: how enrolled users reach the site about their data (duty D16).
public struct PolicyContact: Sendable, Hashable {
    public var name: String?
    public var email: String?
    public var url: String?

    public init(name: String? = nil, email: String? = nil, url: String? = nil) {
        self.name = name
        self.email = email
        self.url = url
    }

    public var json: JSON {
        .object(JSONObject([("email", .string(email)), ("name", .string(name)), ("url", .string(url))]))
    }
}
