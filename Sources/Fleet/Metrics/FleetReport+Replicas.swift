import Foundation
import TokenBucket

// The replicas' part of `run`'s report, in each format (present only when the scenario has
// `[replicas]`): per replica admitted and refused, admitted against the global limit, fairness
// across each group's clients, and the shared store's load and added latency.
extension FleetReport {
    func writeReplicas(_ w: JSONWriter) {
        guard let r = replicas else { return }
        w.field("replicas") {
            w.object {
                w.field("balancer", string: r.balancer)
                w.field("buckets", string: r.buckets)
                w.field("store_clock", string: r.storeClock)
                w.field("admitted", int: r.admitted)
                w.field("admitted_tokens", number: r.admittedTokens)
                w.field("global_limit_tokens", number: r.globalLimitTokens)
                w.field("over_admission", number: r.overAdmission, decimals: 4)
                w.field("per_replica") {
                    w.array(r.replicas) { x in
                        w.object {
                            w.field("replica", int: x.number)
                            w.field("routed", int: x.routed)
                            w.field("admitted", int: x.admitted)
                            w.field("refused", int: x.refused)
                            w.field("clock_offset_ms", number: x.clockOffsetMs)
                        }
                    }
                }
                w.field("fairness") {
                    w.array(r.fairness) { f in
                        w.object {
                            w.field("group", string: f.group)
                            w.field("clients", int: f.clients)
                            w.field("min_admitted", int: f.minAdmitted)
                            w.field("max_admitted", int: f.maxAdmitted)
                            w.field("jain", number: f.jain, decimals: 4)
                        }
                    }
                }
                w.field("store") {
                    w.object {
                        w.field("ops", int: r.storeOps)
                        w.field("ops_per_s", number: r.storeOpsPerSecond)
                        w.field("capacity_ops_per_s", number: r.storeCapacityPerSecond)
                        w.field("round_trip_ms", number: r.storeRoundTripMs)
                        w.field("queue_max_ms", number: r.storeQueueMaxMs)
                        w.field("added_latency_ms") { w.waits(r.addedLatencyMs) }
                    }
                }
            }
        }
    }

    /// The replicas' lines of the text report.
    func replicaLines() -> [String] {
        guard let r = replicas else { return [] }
        var lines = ["", "replicas: \(r.replicas.count) behind a \(r.balancer) balancer, \(r.buckets) buckets"
                         + (r.shared ? (r.storeClock == "server" ? " (the store on its own clock)" : " (the store on the replicas' clocks)") : "")]
        lines.append("admitted \(r.admitted) requests, \(fmt(r.admittedTokens)) tokens against a global limit of "
                     + "\(fmt(r.globalLimitTokens)) (capacity + refill × \(fmt(durationSeconds)) s): ×\(String(format: "%.2f", r.overAdmission))")
        lines.append("")
        lines += Self.grid([["replica", "routed", "admitted", "refused", "clock ms"]] + r.replicas.map {
            ["r\($0.number)", "\($0.routed)", "\($0.admitted)", "\($0.refused)", fmt($0.clockOffsetMs)]
        })
        lines.append("")
        lines += Self.grid([["fairness", "clients", "min admitted", "max admitted", "Jain"]] + r.fairness.map {
            [$0.group, "\($0.clients)", "\($0.minAdmitted)", "\($0.maxAdmitted)", format1($0.jain, 3)]
        })
        if r.shared {
            lines.append("")
            lines.append("store: \(r.storeOps) ops, \(fmt(r.storeOpsPerSecond)) ops/s of \(fmt(r.storeCapacityPerSecond)) "
                         + "(\(format1(r.storeOpsPerSecond / r.storeCapacityPerSecond * 100, 1)) %), round trip \(fmt(r.storeRoundTripMs)) ms; "
                         + "added latency p50 \(Self.ms(r.addedLatencyMs.p50)) ms, p99 \(Self.ms(r.addedLatencyMs.p99)) ms, "
                         + "max \(Self.ms(r.addedLatencyMs.max)) ms; longest store queue \(Self.ms(r.storeQueueMaxMs)) ms")
        }
        return lines
    }

    /// Columns the CSV gains when the report has replicas (after `keying`, so every other
    /// column keeps its place).
    static let replicaColumns = ["over_admission", "global_limit_tokens", "admitted_tokens", "jain", "store_ops_per_s",
                                 "added_p50_ms", "added_p99_ms", "clock_offset_ms"]

    /// `rows` (the header first) with the replica columns, and the replicas' rows: one
    /// `replica` row per replica (routed in `requests`, refused in `rejected`), one `fairness`
    /// row per group (its clients, Jain's index) and one `replicas` row for the fleet (its
    /// buckets and balancer as the name; admitted against the global limit, store load and
    /// added latency). Unchanged without replicas.
    func withReplicaRows(_ rows: [String], run: String) -> [String] {
        guard let r = replicas, let header = rows.first else { return rows }
        let blank = String(repeating: ",", count: Self.replicaColumns.count)
        var out = [header + "," + Self.replicaColumns.joined(separator: ",")] + rows.dropFirst().map { $0 + blank }
        // kind,name,group,clients,capacity,refill_per_s,tuned_from_refill_per_s,requests,admitted,rejected,
        // timed_out,moved,waiting,upstream_429,completed,failed,max_queue,p50_ms,p90_ms,p99_ms,max_ms,wait_lower_bound
        let empty12 = String(repeating: ",", count: 12)
        for x in r.replicas {
            out.append("replica,r\(x.number),,,,,,\(x.routed),\(x.admitted),\(x.refused)\(empty12),\(run),,,,,,,,\(fmt(x.clockOffsetMs))")
        }
        for f in r.fairness {
            out.append("fairness,\(Self.csvField(f.group)),\(Self.csvField(f.group)),\(f.clients),,,,,,\(empty12),\(run),,,,\(format1(f.jain, 4)),,,,")
        }
        let routed = r.replicas.reduce(0) { $0 + $1.routed }, refused = r.replicas.reduce(0) { $0 + $1.refused }
        out.append("replicas,\(r.buckets) \(r.balancer),,\(r.replicas.count),,,,\(routed),\(r.admitted),\(refused)\(empty12),\(run),"
                   + "\(format1(r.overAdmission, 4)),\(fmt(r.globalLimitTokens)),\(fmt(r.admittedTokens)),,\(fmt(r.storeOpsPerSecond)),"
                   + "\(Self.ms(r.addedLatencyMs.p50)),\(Self.ms(r.addedLatencyMs.p99)),")
        return out
    }
}
