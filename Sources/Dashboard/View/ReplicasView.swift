import Fleet

/// Replicas behind a balancer, at the top of the isolation pane when the scenario has them:
/// admitted against the global limit (the over-admission factor, red above the limit), how
/// evenly identical clients are served, what the shared store costs, and one bar per replica
/// with its share of the admissions.
///
/// ```
/// 3 replicas · key-hash · local-full
/// admitted 1857 of 620  ×3.00
/// fair  users Jain 0.82  197-619
/// store none (local buckets)
/// r1 ████████▌     619  ref 1489
/// ```
enum ReplicasView {
    /// Replica rows shown at most; more are summed up in one line.
    static let maxReplicaRows = 6

    /// Rows the view takes in the pane (0 without replicas): four lines, the replicas, a gap.
    static func height(_ snapshot: FleetSnapshot) -> Int {
        guard let r = snapshot.replicas else { return 0 }
        let rows = r.replicas.count > maxReplicaRows ? maxReplicaRows + 1 : r.replicas.count
        return 4 + rows + 1
    }

    /// The header's item: `3 replicas local-full ×3.00`.
    static func headerItem(_ r: ReplicaSnapshot, glyphs: Glyphs) -> String {
        "\(r.replicas.count) replicas \(r.buckets) \(glyphs.braille ? "×" : "x")\(Format.trimmed(r.overAdmission, decimals: 2))"
    }

    static func render(_ snapshot: FleetSnapshot, into grid: inout Grid, at rect: Rect, context: ViewContext) {
        guard let r = snapshot.replicas, rect.width >= 20, rect.height >= 1 else { return }
        let palette = context.palette, g = context.glyphs
        let x0 = rect.x + 1, width = rect.width - 2
        var y = rect.y
        func line(_ parts: [(String, Style)]) {
            guard y < rect.maxY else { return }
            var x = x0
            for (text, style) in parts where x < x0 + width {
                x += grid.put(text, x: x, y: y, style: style, maxWidth: x0 + width - x)
            }
            y += 1
        }
        let dim = palette.style(.inactiveFg), base = palette.base
        line([("\(r.replicas.count) replicas \(g.bullet) \(r.balancer) \(g.bullet) \(r.buckets)", palette.style(.title, .bold))])
        let factorStyle = r.overAdmission > 1.05 ? palette.style(.error, .bold) : palette.style(.ok, .bold)
        line([("admitted ", dim), ("\(Format.count(Int(r.admittedTokens.rounded()))) of \(Format.count(Int(r.globalLimitTokens.rounded())))", base),
              ("  \(g.braille ? "×" : "x")\(Format.trimmed(r.overAdmission, decimals: 2))", factorStyle)])
        // The least fair group: the one a skewed balancer hurts.
        if let f = r.fairness.min(by: { $0.jain < $1.jain }) {
            let style = f.jain < 0.9 ? palette.style(.warn, .bold) : base
            line([("fair ", dim), ("\(f.group) Jain \(Format.trimmed(f.jain, decimals: 2))", style),
                  ("  \(f.minAdmitted)-\(f.maxAdmitted)", dim)])
        } else {
            line([("fair ", dim), ("-", base)])
        }
        if r.shared {
            let load = r.storeCapacityPerSecond > 0 ? r.storeOpsRecentPerSecond / r.storeCapacityPerSecond : 0
            line([("store ", dim), ("\(Format.number(r.storeOpsRecentPerSecond))/s of \(Format.number(r.storeCapacityPerSecond))", load > 0.9 ? palette.style(.error, .bold) : base),
                  ("  +\(Format.milliseconds(r.addedLatencyMs.p99)) p99", base)])
        } else {
            line([("store ", dim), ("none (local buckets)", base)])
        }
        let total = max(1, r.admitted)
        let numbersWidth = 16
        let barWidth = max(0, width - 4 - numbersWidth)
        for replica in r.replicas.prefix(maxReplicaRows) where y < rect.maxY {
            grid.put("r\(replica.number)", x: x0, y: y, style: dim, maxWidth: 3)
            if barWidth >= 2 {
                Gauge(fraction: Double(replica.admitted) / Double(total), style: palette.style(.admittedGraph), glyphs: g)
                    .render(into: &grid, at: Rect(x: x0 + 4, y: y, width: barWidth, height: 1))
            }
            let numbers = TextFit.pad(Format.count(replica.admitted), to: 6, alignRight: true) + " ref "
                + TextFit.pad(Format.count(replica.refused), to: 5, alignRight: true)
            grid.put(numbers, x: x0 + 4 + barWidth, y: y, style: base, maxWidth: numbersWidth)
            y += 1
        }
        if r.replicas.count > maxReplicaRows, y < rect.maxY {
            let rest = r.replicas.dropFirst(maxReplicaRows)
            grid.put("+\(rest.count) more: \(Format.count(rest.reduce(0) { $0 + $1.admitted })) admitted", x: x0, y: y, style: dim,
                     maxWidth: width)
        }
    }
}
