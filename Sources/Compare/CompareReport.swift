import TokenBucket

/// What `bucketscope compare` prints: the stream, the budget, and one row per algorithm, as a
/// table, JSON or CSV.
///
/// ```swift
/// let report = CompareReport(source: "burst (seed 1, 60s)", traffic: t, comparison: run)
/// print(report.table())
/// ```
public struct CompareReport: Sendable {
    public var source: String
    public var requests: Int
    public var keys: Int
    public var span: Nanoseconds
    public var budget: Budget
    public var options: LimiterOptions
    public var perKey: Bool
    public var rows: [AlgorithmResult]

    public init(source: String, traffic: Traffic, comparison: Comparison) {
        self.source = source
        requests = traffic.requests.count
        keys = traffic.keys.count
        span = traffic.span
        budget = comparison.budget
        options = comparison.options
        perKey = comparison.perKey
        rows = comparison.results()
    }

    static let columns = ["algorithm", "parameters", "admitted", "refused", "wait_p50_ms", "wait_p99_ms",
                          "max_in_window", "wrongly_admitted_pct", "wrongly_refused_pct", "state_bytes_per_key",
                          "fairness"]

    private func cells(_ r: AlgorithmResult) -> [String] {
        [r.algorithm.rawValue, r.parameters, String(r.admitted), String(r.refused), Format.ms(r.waitP50),
         Format.ms(r.waitP99), Format.amount(TokenUnits.tokens(r.maxInWindow)),
         Format.percent(r.wronglyAdmitted, of: r.requests), Format.percent(r.wronglyRefused, of: r.requests),
         String(r.stateBytesPerKey), fairness(r.fairness)]
    }

    private func fairness(_ x: Double) -> String {
        let v = (x * 1000).rounded() / 1000
        return v == 1 ? "1" : Format.amount(v)
    }

    /// The budget and options in one line.
    public var budgetLine: String {
        "rate \(Format.amount(budget.rate.perSecond))/s, burst \(Format.amount(TokenUnits.tokens(budget.burst))), "
            + "window \(Format.duration(budget.window)) (\(Format.amount(TokenUnits.tokens(budget.windowLimit))) per window), "
            + "concurrency \(Format.amount(TokenUnits.tokens(budget.concurrency))); "
            + (perKey ? "one limiter per key" : "one shared limiter")
            + (options.countRefused ? ", refused requests count" : "")
            + (options.alignment == .firstRequest ? ", fixed windows start at the first request" : "")
    }

    public func table() -> String {
        var lines = ["\(source): \(requests) requests, \(keys) keys, over \(Format.amount(Double(span) / 1e9)) s",
                     budgetLine, ""]
        let header = ["algorithm", "parameters", "admitted", "refused", "wait p50 ms", "wait p99 ms",
                      "max in \(Format.duration(budget.window))", "wrong admit %", "wrong refuse %", "state B/key", "Jain"]
        let body = rows.map(cells)
        var widths = header.map(\.count)
        for r in body { for (i, c) in r.enumerated() { widths[i] = Swift.max(widths[i], c.count) } }
        for r in [header] + body {
            lines.append(r.enumerated().map { i, c in
                let pad = String(repeating: " ", count: widths[i] - c.count)
                return i < 2 ? c + pad : pad + c
            }.joined(separator: "  ").trimmingTrailingSpaces())
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public func csv() -> String {
        ([CompareReport.columns.joined(separator: ",")]
            + rows.map { cells($0).map { $0.contains(",") ? "\"\($0)\"" : $0 }.joined(separator: ",") })
            .joined(separator: "\n") + "\n"
    }

    public func json() -> String {
        func str(_ s: String) -> String {
            "\"" + s.replacingAll("\\", "\\\\").replacingAll("\"", "\\\"") + "\""
        }
        let rowsJSON = rows.map { r in
            "{\"algorithm\":\(str(r.algorithm.rawValue)),\"parameters\":\(str(r.parameters)),"
                + "\"requests\":\(r.requests),\"admitted\":\(r.admitted),\"refused\":\(r.refused),"
                + "\"admitted_cost\":\(Format.amount(TokenUnits.tokens(r.admittedCost))),"
                + "\"wait_p50_ms\":\(Format.ms(r.waitP50)),\"wait_p99_ms\":\(Format.ms(r.waitP99)),"
                + "\"wait_max_ms\":\(Format.ms(r.waitMax)),"
                + "\"max_in_window\":\(Format.amount(TokenUnits.tokens(r.maxInWindow))),"
                + "\"wrongly_admitted\":\(r.wronglyAdmitted),\"wrongly_refused\":\(r.wronglyRefused),"
                + "\"wrongly_admitted_pct\":\(Format.percent(r.wronglyAdmitted, of: r.requests)),"
                + "\"wrongly_refused_pct\":\(Format.percent(r.wronglyRefused, of: r.requests)),"
                + "\"state_bytes_per_key\":\(r.stateBytesPerKey),\"fairness\":\(fairness(r.fairness))}"
        }
        return "{\"source\":\(str(source)),\"requests\":\(requests),\"keys\":\(keys),"
            + "\"span_s\":\(Format.amount(Double(span) / 1e9)),"
            + "\"budget\":{\"rate_per_s\":\(Format.amount(budget.rate.perSecond)),"
            + "\"burst\":\(Format.amount(TokenUnits.tokens(budget.burst))),"
            + "\"window_s\":\(Format.amount(Double(budget.window) / 1e9)),"
            + "\"window_limit\":\(Format.amount(TokenUnits.tokens(budget.windowLimit))),"
            + "\"concurrency\":\(Format.amount(TokenUnits.tokens(budget.concurrency)))},"
            + "\"per_key\":\(perKey),\"count_refused\":\(options.countRefused),"
            + "\"alignment\":\(str(options.alignment.rawValue)),"
            + "\"algorithms\":[\(rowsJSON.joined(separator: ","))]}\n"
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }

    func replacingAll(_ a: String, _ b: String) -> String {
        split(separator: Substring(a), omittingEmptySubsequences: false).joined(separator: b)
    }
}
