/// One dimension of a bucket set now.
public struct DimensionStatus: Sendable, Equatable {
    /// Capacity (burst), in requests or tokens.
    public var limit: Double
    /// Available now (0 while in debt).
    public var remaining: Double
    public var refillPerSecond: Double

    public init(limit: Double, remaining: Double, refillPerSecond: Double) {
        self.limit = limit; self.remaining = remaining; self.refillPerSecond = refillPerSecond
    }

    /// Seconds until the bucket is full again.
    public var resetSeconds: Double { Swift.max(0, limit - remaining) / refillPerSecond }
    /// Seconds a full bucket takes to refill from empty: the window of the IETF fields.
    public var windowSeconds: Double { limit / refillPerSecond }
}

/// The limited dimensions of one bucket set, as the rate-limit headers report them: a fixed
/// slot per ``GatewayDimension`` (no dictionary on the way of every answer).
public struct GatewayLevels: Sendable, Equatable {
    private var slots: (DimensionStatus?, DimensionStatus?, DimensionStatus?, DimensionStatus?) = (nil, nil, nil, nil)

    public init() {}

    public subscript(dimension: GatewayDimension) -> DimensionStatus? {
        get {
            switch dimension {
            case .requests: return slots.0
            case .tokens: return slots.1
            case .inputTokens: return slots.2
            case .outputTokens: return slots.3
            }
        }
        set {
            switch dimension {
            case .requests: slots.0 = newValue
            case .tokens: slots.1 = newValue
            case .inputTokens: slots.2 = newValue
            case .outputTokens: slots.3 = newValue
            }
        }
    }

    /// Whether no dimension is set.
    public var isEmpty: Bool { GatewayDimension.allCases.allSatisfy { self[$0] == nil } }

    public static func == (a: GatewayLevels, b: GatewayLevels) -> Bool {
        GatewayDimension.allCases.allSatisfy { a[$0] == b[$0] }
    }
}
