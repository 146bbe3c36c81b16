import Fleet

/// A column of the bucket table the rows can be ordered by (`o` walks them, `O` reverses,
/// a click on a column title picks one).
public enum SortColumn: String, Sendable, CaseIterable {
    case key, group, fill, tokens, refill, queue, oldest, admitted = "adm/s", p50, p99, upstream429 = "429"

    var next: SortColumn { SortColumn.allCases[(SortColumn.allCases.firstIndex(of: self)! + 1) % SortColumn.allCases.count] }

    /// Names read best A to Z; numbers biggest first (htop's convention).
    public var descendingByDefault: Bool { self != .key && self != .group }
}

/// The table's order: a column and a direction. Ties are broken by the key's natural order, so
/// the order is total and stable from frame to frame.
public struct TableSort: Sendable, Equatable {
    public var column: SortColumn
    public var descending: Bool

    public init(_ column: SortColumn = .key, descending: Bool? = nil) {
        self.column = column
        self.descending = descending ?? column.descendingByDefault
    }

    /// The number a row is ordered by (nil for the name columns, which compare as text).
    public static func value(_ k: KeySnapshot, _ column: SortColumn) -> Double {
        switch column {
        case .key, .group: return 0
        case .fill: return k.capacity > 0 ? k.tokens / k.capacity : 0
        case .tokens: return k.tokens
        case .refill: return k.refillPerSecond
        case .queue: return Double(k.waiters)
        case .oldest: return k.oldestWaitSeconds
        case .admitted: return k.admittedPerSecond.last ?? 0
        case .p50: return k.waitMs.p50
        case .p99: return k.waitMs.p99
        case .upstream429: return Double(k.upstream429)
        }
    }

    /// "p99↓", "key↑": how the status line names the order.
    public func label(_ glyphs: Glyphs) -> String { column.rawValue + (descending ? glyphs.down : glyphs.up) }
}
