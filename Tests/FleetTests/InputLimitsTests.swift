import Testing
import TokenBucket
@testable import Fleet

/// Every scenario input issue 14 found crashing, hanging or answering misleadingly: each is now
/// refused at the door with file, line, field and the valid range, or runs to completion.
@Suite struct InputLimitsTests {
    func error(_ toml: String) -> String {
        do {
            _ = try Scenario.parse(toml: toml, file: "x.toml")
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    let client = "[[clients]]\nname = \"a\"\n"

    @Test(arguments: [
        // Aborted inside toml++ (assertion in parse_key).
        ("[é]\n", "x.toml:1: a table header must start with a letter, digit, _, - or a quote, got 'é'"),
        ("name = \"x\"\n[[ \u{1}a]]\n", "x.toml:2: control character U+0001 (TOML allows only tab, CR and LF)"),
        ("[[clients]]\nname = \"a\"\nrate = 1\n[\n", "x.toml:4: a table header must start with a letter, digit, _, - or a quote, got the end of the line"),
        ("[?]\n", "x.toml:1: a table header must start with a letter, digit, _, - or a quote, got '?'"),
        // 3.5 GB allocation, 100 million tasks.
        ("[[clients]]\nname = \"a\"\nrate = 1\ncount = 10000000\n", "x.toml:4: count: must be at most 100,000, got 10,000,000 (valid: 1 to 100,000)"),
        ("[[clients]]\nname = \"a\"\narrival = \"closed-loop\"\nconcurrency = 100000000\n",
         "x.toml:4: concurrency: must be at most 100,000, got 100,000,000 (valid: 1 to 100,000)"),
        ("[[clients]]\nname = \"a\"\narrival = \"closed-loop\"\nconcurrency = 3000000000\n",
         "x.toml:4: concurrency: must be at most 100,000, got 3,000,000,000 (valid: 1 to 100,000)"),
        // Hangs.
        ("[[clients]]\nname = \"a\"\narrival = \"on-off\"\nrate = 1\non = \"1ns\"\n",
         "x.toml:5: on: must be at least 1us, got 1ns (valid: 1us to 8760h)"),
        ("[[clients]]\nname = \"a\"\narrival = \"on-off\"\nrate = 0.5\non = \"1ms\"\n",
         "x.toml:5: on: rate × on is 0.0005 requests per on period, must be at least 0.001 (raise rate or on)"),
        ("[tuning]\nwindow = \"1ns\"\n[[clients]]\nname = \"a\"\nrate = 1\n", "x.toml:2: window: must be at least 100ms, got 1ns (valid: 100ms to 8760h)"),
        ("duration = \"100000h\"\n[[clients]]\nname = \"a\"\nrate = 1\n", "x.toml:1: duration: must be at most 8760h, got 100000h (valid: 1ns to 8760h)"),
        // Traps on Double → Int64.
        ("[upstream]\nttft = 1e10\n[[clients]]\nname = \"a\"\nrate = 1\n", "x.toml:2: ttft: must be at most 3600, got 1e10 (valid: 0 to 3600 seconds)"),
        ("[upstream]\nttft = [0, inf]\n[[clients]]\nname = \"a\"\nrate = 1\n", "x.toml:2: ttft: must be a finite number, got inf (valid: 0 to 3600 seconds)"),
        ("[[clients]]\nname = \"a\"\nrate = 1e-11\n", "x.toml:3: rate: must be at least 1e-9, got 1e-11 (valid: 1e-9 to 1e9 requests per second)"),
        ("[[clients]]\nname = \"a\"\narrival = \"steady\"\nrate = 1e-12\n", "x.toml:4: rate: must be at least 1e-9, got 1e-12 (valid: 1e-9 to 1e9 requests per second)"),
        ("[[clients]]\nname = \"a\"\narrival = \"ramp\"\nto = 1e300\nover = \"1s\"\n",
         "x.toml:4: to: must be at most 1e9, got 1e300 (valid: 0, or 1e-9 to 1e9 requests per second)"),
        ("[[clients]]\nname = \"a\"\narrival = \"on-off\"\nrate = 1\non = \"5000000h\"\n",
         "x.toml:5: on: duration out of range: \"5000000h\" (valid: 1us to 8760h)"),
        ("[[clients]]\nname = \"a\"\narrival = \"on-off\"\nrate = 1\non = \"1s\"\noff = \"9000h\"\n",
         "x.toml:6: off: must be at most 8760h, got 9000h (valid: 0s to 8760h)"),
        // Misleading messages.
        ("[upstream]\ntpm = 1e300\n[[clients]]\nname = \"a\"\nrate = 1\n", "x.toml:2: tpm: must be at most 1e9, got 1e300 (valid: 0.001 to 1e9 per minute)"),
        ("[[clients]]\nname = \"a\"\nrate = 1\ncost = 1e-12\n", "x.toml:4: cost: must be at least 1e-9, got 1e-12 (valid: 1e-9 to 1e12 tokens)"),
        ("[[clients]]\nname = \"a\"\nrate = 1\ncost = 1e13\n", "x.toml:4: cost: must be at most 1e12, got 1e13 (valid: 1e-9 to 1e12 tokens)"),
        ("[limit]\ncapacity = 3\n[[clients]]\nname = \"a\"\nrate = 1\n", "x.toml:1: limit: unknown table (see docs/scenario-format.md)"),
        ("[limits]\ncapacity = 1e10\n[[clients]]\nname = \"a\"\nrate = 1\n", "x.toml:2: capacity: must be at most 1e9, got 1e10 (valid: 1e-9 to 1e9 tokens)"),
        ("[limits]\nrefill = 1e-7\n[[clients]]\nname = \"a\"\nrate = 1\n", "x.toml:2: refill: must be at least 1e-6, got 1e-7 (valid: 1e-6 to 1e9 tokens per second)"),
        ("[[clients]]\nname = \"a\"\nrate = 1\nretries = 1000\n", "x.toml:4: retries: must be at most 100, got 1,000 (valid: 0 to 100)"),
        ("[[clients]]\nname = \"a\"\nrate = 1\ncount = 2.5\n", "x.toml:4: count: expected a whole number, got 2.5 (valid: 1 to 100,000)"),
    ] as [(String, String)])
    func refusedWithFileLineFieldAndRange(toml: String, message: String) {
        #expect(error(toml) == message)
    }

    @Test func clientsAddingUpPastTheLimitNameTheTableThatCrossedIt() {
        let toml = "[[clients]]\nname = \"a\"\nrate = 1\ncount = 60000\n\n[[clients]]\nname = \"b\"\nrate = 1\ncount = 50000\n"
        #expect(error(toml) == "x.toml:9: count: the scenario's clients add up to 110,000 here, more than the limit of 100,000 (lower count)")
    }

    @Test func outstandingRequestsAreCappedOverAllClosedLoopClients() {
        let toml = "[[clients]]\nname = \"a\"\narrival = \"closed-loop\"\nconcurrency = 100000\ncount = 11\n"
        #expect(error(toml).hasPrefix("x.toml:4: concurrency: closed-loop clients keep 1,100,000 requests outstanding here"))
    }

    @Test func theBudgetSaysWhatToLower() throws {
        let s = Scenario.named("noisy-neighbor")!
        #expect(throws: Never.self) { try s.checkBudget(duration: 3_600 * InputLimits.second) }
        #expect {
            try s.checkBudget(duration: 8_000 * 3_600 * InputLimits.second)
        } throws: { e in
            let m = "\(e)"
            return m.hasPrefix("duration: a run of 8000h would simulate about 7.3e9 requests, more than the budget of 2e8")
                && m.contains("most from client \"noisy\": about 250 per second") && m.contains("at most 218h here")
        }
    }

    @Test func theDashboardHasARateBudget() throws {
        #expect(throws: Never.self) { try Scenario.named("noisy-neighbor")!.checkDashboardRate(speed: 1000) }
        let fast = try Scenario.parse(toml: "[[clients]]\nname = \"a\"\nrate = 1e9\n", file: "x.toml")
        #expect {
            try fast.checkDashboardRate(speed: 1)
        } throws: { e in
            "\(e)" == "rate: the dashboard would simulate about 1e9 requests per second, more than the 2e6 it can keep up with "
                + "(most from client \"a\": about 1e9 per simulated second); lower the clients' rate, count or concurrency, or --speed"
        }
    }

    /// The slowest and largest accepted values: each runs to completion, quickly, without a
    /// trap (before: SIGILL from Double → Int64 conversions).
    @Test(arguments: [
        "[[clients]]\nname = \"a\"\nrate = 1e-9\n",
        "[[clients]]\nname = \"a\"\narrival = \"steady\"\nrate = 1e-9\n",
        "[[clients]]\nname = \"a\"\narrival = \"on-off\"\nrate = 1e-9\non = \"8760h\"\noff = \"8760h\"\n",
        "[[clients]]\nname = \"a\"\narrival = \"on-off\"\nrate = 1e3\non = \"1us\"\noff = \"1s\"\n",
        "[[clients]]\nname = \"a\"\narrival = \"ramp\"\nfrom = 0\nto = 1e-9\nover = \"8760h\"\n",
        "[[clients]]\nname = \"a\"\narrival = \"ramp\"\nfrom = 1e-9\nto = 0\nover = \"1ns\"\n",
        "[[clients]]\nname = \"a\"\nrate = 1\ncost = 1e12\n",
        "[[clients]]\nname = \"a\"\nrate = 1\ncost = 9.5e9\n",
        "[upstream]\nttft = 3600\ntokens_per_s = 0.001\n[[clients]]\nname = \"a\"\nrate = 1\ncost = \"code\"\n",
        "[upstream]\nrpm = 0.001\ntpm = 1e9\n[[clients]]\nname = \"a\"\nrate = 1\n",
        "[limits]\ncapacity = 1e9\nrefill = 0.000001\n[[clients]]\nname = \"a\"\nrate = 1\ncost = 1e9\n",
        "[[clients]]\nname = \"a\"\nrate = 1\nretry = \"sdk\"\nretries = 100\nbackoff_base = \"8760h\"\nbackoff_cap = \"8760h\"\n",
    ])
    func extremesRunToCompletion(toml: String) throws {
        let s = try Scenario.parse(toml: toml, file: "x.toml")
        let sim = try Simulation(scenario: s, seed: 3)
        sim.run(until: 10 * InputLimits.second)
        #expect(conservationFailures(sim.metrics) == [])
    }

    @Test func aCostAboveEveryCapacityIsRejectedNotClamped() throws {
        let s = try Scenario.parse(toml: "[[clients]]\nname = \"a\"\narrival = \"steady\"\nrate = 1\ncost = 1e12\n", file: "x.toml")
        let sim = try Simulation(scenario: s, seed: 1)
        sim.run(until: 10 * InputLimits.second)
        let g = sim.report().groups[0]
        #expect(g.requests == 10)
        #expect(g.rejected == 10)
    }
}

@Suite struct CheckedTimeTests {
    @Test func conversionsSaturateAtNeverInsteadOfTrapping() {
        #expect(CheckedTime.nanoseconds(seconds: 1.5) == 1_500_000_000)
        #expect(CheckedTime.nanoseconds(seconds: 1e10) == CheckedTime.never)
        #expect(CheckedTime.nanoseconds(seconds: .infinity) == CheckedTime.never)
        #expect(CheckedTime.nanoseconds(seconds: .nan) == 0)
        #expect(CheckedTime.nanoseconds(seconds: -3) == 0)
        #expect(CheckedTime.adding(.max - 1, 5) == CheckedTime.never)
        #expect(CheckedTime.adding(CheckedTime.never - 10, 5) == CheckedTime.never - 5)
        #expect(CheckedTime.after(7, seconds: 1e300) == CheckedTime.never)
    }

    @Test func aYearIsFarInsideNever() {
        #expect(InputLimits.year * 2 < CheckedTime.never)
    }

    @Test func costUnitsAreExactUpToTheLargestCapacityAndAboveItStayAbove() {
        #expect(CheckedTime.costUnits(2.5) == 2_500_000_000)
        #expect(CheckedTime.costUnits(1e9) == TokenUnits.units(1e9))
        #expect(CheckedTime.costUnits(1e12) == TokenUnits.units(1e9) + 1)
        #expect(CheckedTime.costUnits(9.3e9) == TokenUnits.units(1e9) + 1)
    }
}

@Suite struct NumberTextTests {
    @Test(arguments: [(1e-12, "1e-12"), (1e300, "1e300"), (1e9, "1e9"), (-1, "-1"), (0.5, "0.5"), (2_500_000, "2500000"),
                      (1e-9, "1e-9"), (0.001, "0.001"), (.infinity, "inf")] as [(Double, String)])
    func numbersReadBackAsWritten(x: Double, text: String) {
        #expect(NumberText.format(x) == text)
    }

    @Test func estimatesHaveTwoSignificantDigits() {
        #expect(NumberText.approximate(7_345_000_000) == "7.3e9")
        #expect(NumberText.approximate(251.7) == "250")
        #expect(NumberText.approximate(2e8) == "2e8")
    }
}
