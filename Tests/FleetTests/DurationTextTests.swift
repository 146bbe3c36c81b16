import Testing
@testable import Fleet

@Suite struct DurationTextTests {
    @Test(arguments: [("500ms", 500_000_000), ("90s", 90_000_000_000), ("10m", 600_000_000_000),
                      ("1h", 3_600_000_000_000), ("1.5s", 1_500_000_000), ("2m30s", 150_000_000_000),
                      ("2", 2_000_000_000), ("250us", 250_000)] as [(String, Int64)])
    func parses(text: String, nanoseconds: Int64) throws {
        #expect(try DurationText.parse(text) == nanoseconds)
    }

    @Test(arguments: ["", "fast", "10x", "s", "-5s", "1e30h", "inf", "nan", "1.2.3s", "5000000000h"])
    func rejects(text: String) {
        #expect(throws: FleetError.self) { try DurationText.parse(text) }
    }

    @Test(arguments: [("-3s", DurationText.Malformed.Reason.negative), ("-1", .negative), ("", .empty),
                      ("10x", .unknownUnit("x")), ("2m30", .numberWithoutUnit("30")), ("soon", .notADuration),
                      ("nan", .notADuration), ("inf", .notADuration), ("5000000000h", .tooLong)])
    func saysWhyTextIsNotADuration(text: String, reason: DurationText.Malformed.Reason) {
        #expect(DurationText.read(text) == .failure(DurationText.Malformed(text: text, reason: reason)))
    }

    @Test func aNegativeDurationIsCalledNegativeWhereverItIsRead() {
        #expect(throws: FleetError.invalid("\"-5s\" is negative: expected a duration of 0 or more, such as 500ms, 90s, 10m or 1h")) {
            try DurationText.parse("-5s")
        }
    }

    @Test func formatsTheShortestExactForm() {
        #expect(DurationText.format(90_000_000_000) == "90s")
        #expect(DurationText.format(600_000_000_000) == "10m")
        #expect(DurationText.format(500_000_000) == "500ms")
        #expect(DurationText.format(250_000) == "250us")
        #expect(DurationText.format(7) == "7ns")
    }
}
