/// Whether the numbers come from the discrete-event simulator or from real tasks on a real clock.
public enum FleetMode: String, Sendable, Codable {
    case simulated
    case live
}
