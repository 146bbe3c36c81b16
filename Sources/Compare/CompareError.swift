/// A comparison that cannot run as asked; the message names the bad value.
public struct CompareError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
