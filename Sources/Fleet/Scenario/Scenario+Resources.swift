import TokenBucket

/// A scenario that would need more than the documented resources (``InputLimits``): too many
/// clients or outstanding requests, or more simulated requests than the budget. `client` is the
/// index of the `[[clients]]` table that crossed a limit, when one did.
public struct ResourceLimitError: Error, Equatable, CustomStringConvertible {
    public var client: Int?
    public var field: String
    public var message: String
    public var description: String { "\(field): \(message)" }
}

extension Scenario {
    /// Checks the totals over all clients: at most ``InputLimits/totalClients`` clients and
    /// ``InputLimits/totalConcurrency`` (live: ``InputLimits/totalConcurrencyLive``) requests
    /// kept outstanding by closed-loop clients.
    public func checkTotals(live: Bool = false) throws(ResourceLimitError) {
        var clientsSoFar = 0
        var outstanding = 0
        let outstandingLimit = live ? InputLimits.totalConcurrencyLive : InputLimits.totalConcurrency
        for (i, c) in clients.enumerated() {
            if let problem = InputLimits.clientCount.violation(c.count) {
                throw ResourceLimitError(client: i, field: "count", message: problem)
            }
            clientsSoFar += c.count
            if clientsSoFar > InputLimits.totalClients {
                throw ResourceLimitError(client: i, field: "count", message:
                    "the scenario's clients add up to \(NumberText.grouped(clientsSoFar)) here, more than the limit of "
                    + "\(NumberText.grouped(InputLimits.totalClients)) (lower count)")
            }
            if case .closedLoop(let n, _) = c.arrival {
                if let problem = InputLimits.concurrency.violation(n) {
                    throw ResourceLimitError(client: i, field: "concurrency", message: problem)
                }
                outstanding += n * c.count
                if outstanding > outstandingLimit {
                    throw ResourceLimitError(client: i, field: "concurrency", message:
                        "closed-loop clients keep \(NumberText.grouped(outstanding)) requests outstanding here (count × "
                        + "concurrency), more than the limit of \(NumberText.grouped(outstandingLimit))"
                        + (live ? " in live mode, where each is a task" : "") + " (lower concurrency or count)")
                }
            }
        }
        try checkReplicas()
    }

    /// Requests per second one client of `spec` sends, as estimated for the budget: its rate
    /// (on-off: averaged over the cycle; ramp: the higher end); closed loop: `concurrency` per
    /// (think + the provider's shortest response time), counting at least 1 ms per request.
    public func estimatedRate(of spec: ClientSpec) -> Double {
        switch spec.arrival {
        case .steady(let r), .poisson(let r): return r
        case let .onOff(r, on, off): return r * Double(on) / Double(on + off)
        case let .ramp(from, to, _): return Swift.max(from, to)
        case let .closedLoop(n, think):
            let cycle = Swift.max(Double(think) / 1e9 + upstream.ttft.lowerBound, 0.001)
            return Double(n) / cycle
        }
    }

    /// Estimated requests over `duration`: Σ count × ``estimatedRate(of:)`` × duration (first
    /// attempts; retries come on top).
    public func estimatedRequests(over duration: Nanoseconds) -> Double {
        clients.reduce(0) { $0 + Double($1.count) * estimatedRate(of: $1) } * Double(duration) / 1e9
    }

    /// Refuses a run whose ``estimatedRequests(over:)`` exceeds ``InputLimits/requestBudget``,
    /// saying which client sends most and how long a run the budget allows.
    public func checkBudget(duration: Nanoseconds, budget: Double = InputLimits.requestBudget) throws(ResourceLimitError) {
        let total = estimatedRequests(over: duration)
        guard total > budget else { return }
        let perSecond = total / (Double(duration) / 1e9)
        var top = 0
        var topRate = -1.0
        for (i, c) in clients.enumerated() {
            let r = Double(c.count) * estimatedRate(of: c)
            if r > topRate { top = i; topRate = r }
        }
        let allowed = CheckedTime.nanoseconds(seconds: budget / perSecond)
        throw ResourceLimitError(client: nil, field: "duration", message:
            "a run of \(DurationText.format(duration)) would simulate about \(NumberText.approximate(total)) requests, "
            + "more than the budget of \(NumberText.approximate(budget)) (most from client \"\(clients[top].name)\": "
            + "about \(NumberText.approximate(topRate)) per second); lower the duration "
            + "(at most \(DurationText.approximate(allowed)) here) or the clients' rate, count or concurrency")
    }

    /// Refuses a dashboard whose clients would send more than
    /// ``InputLimits/dashboardRequestsPerSecond`` requests per real second at `speed` (the
    /// dashboard runs until quit, so it has a rate budget instead of a run budget).
    public func checkDashboardRate(speed: Double) throws(ResourceLimitError) {
        var top = 0
        var topRate = -1.0
        var total = 0.0
        for (i, c) in clients.enumerated() {
            let r = Double(c.count) * estimatedRate(of: c)
            total += r
            if r > topRate { top = i; topRate = r }
        }
        let perRealSecond = total * speed
        guard perRealSecond > InputLimits.dashboardRequestsPerSecond else { return }
        throw ResourceLimitError(client: nil, field: "rate", message:
            "the dashboard would simulate about \(NumberText.approximate(perRealSecond)) requests per second, more than the "
            + "\(NumberText.approximate(InputLimits.dashboardRequestsPerSecond)) it can keep up with (most from client "
            + "\"\(clients[top].name)\": about \(NumberText.approximate(topRate)) per simulated second); lower the clients' rate, "
            + "count or concurrency, or --speed")
    }
}
