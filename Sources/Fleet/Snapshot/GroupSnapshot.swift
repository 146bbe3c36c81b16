/// A group of clients (`quiet`, `noisy`, ...), for the isolation pane and reports.
public struct GroupSnapshot: Sendable, Equatable {
    public var name: String
    public var clients: Int
    public var requests: Int
    public var admitted: Int
    public var rejected: Int
    public var upstream429: Int
    public var waitMs: WaitPercentiles
    /// Admitted per second over the recent window.
    public var throughput: Double
    /// This group's share of everything admitted recently, 0...1.
    public var shareOfAdmitted: Double
    /// Admitted per second, one sample per `sampleInterval`, oldest first.
    public var throughputSeries: [Double]
    /// p99 wait (ms) per sample, oldest first.
    public var p99Series: [Double]
    /// Requests of this group waiting at a client-side bucket now.
    public var waiting: Int
    /// How long the longest-waiting of them has waited so far, in seconds (0 when none). Unlike
    /// the percentiles, which count admitted requests only, this shows starvation at once.
    public var oldestWaitSeconds: Double

    public init(name: String, clients: Int, requests: Int, admitted: Int, rejected: Int, upstream429: Int,
                waitMs: WaitPercentiles, throughput: Double, shareOfAdmitted: Double,
                throughputSeries: [Double] = [], p99Series: [Double] = [], waiting: Int = 0,
                oldestWaitSeconds: Double = 0) {
        self.name = name; self.clients = clients; self.requests = requests; self.admitted = admitted
        self.rejected = rejected; self.upstream429 = upstream429; self.waitMs = waitMs
        self.throughput = throughput; self.shareOfAdmitted = shareOfAdmitted
        self.throughputSeries = throughputSeries; self.p99Series = p99Series
        self.waiting = waiting; self.oldestWaitSeconds = oldestWaitSeconds
    }
}
