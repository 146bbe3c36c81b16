import Foundation
@testable import Gateway
import Testing

@Suite("Gateway request scan")
struct GatewayRequestScanTests {
    static let bodies = [
        #"{"model":"m","messages":[{"role":"user","content":"Hello there"}]}"#,
        #"{"model":"m","max_tokens":16,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Say hi"}]}"#,
        #"{"messages":[{"role":"user","content":[{"type":"text","text":"a picture"},{"type":"image_url","image_url":{"url":"x"}}]}],"max_completion_tokens":12.5}"#,
        #"{"prompt":"tab\there, \"quoted\", \u00e9t\u00e9 \ud83d\ude00","max_tokens":"many","max_output_tokens":7}"#,
        #"{"input":["one","two",{"text":"three"}],"instructions":"café 👩‍👩‍👧 e\u0301","tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]}"#,
        #"{ "system" : "s" , "functions" : [ ] , "messages" : "not a list" , "max_tokens" : -3 , "max_completion_tokens" : 2e9 }"#,
        #"{"messages":[],"max_tokens":0,"nested":{"deep":[[[{"a":null,"b":true,"c":false,"d":-0.5e-3}]]]}}"#,
        #"{"prompt":"first","prompt":"the second one wins","max_tokens":3,"max_tokens":9}"#,
        "{\"messages\":[{\"role\":\"user\",\"content\":\"line one\\nline two\\r\\n\\u0041\\/\"}]}",
    ]

    @Test("the scan's estimate equals the parsed body's, for every route")
    func sameEstimate() throws {
        for body in Self.bodies {
            let json = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any], "\(body)")
            let scan = try Array(body.utf8).withUnsafeBytes { try RequestScan($0) }
            for route in CountedRoute.allCases {
                let expected = TokenEstimate(body: json, route: route, defaultMaxTokens: 256)
                #expect(scan.estimate(route: route, defaultMaxTokens: 256) == expected, "\(route) \(body)")
            }
            #expect(scan.stream == ((json["stream"] as? Bool) == true))
        }
    }

    @Test("invalid JSON and non-objects are told apart; valid bodies pass")
    func validation() throws {
        let invalid = ["", "{", "{\"a\":}", "{\"a\":1,}", "{\"a\" 1}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":tru}",
                       "{\"a\":\"\u{01}\"}", "{\"a\":\"\\x\"}", "{\"a\":\"\\ud800\"}", "{\"a\":1} x", "{\"a\":[1 2]}",
                       "{'a':1}", "{\"a\":\"unterminated}"]
        for text in invalid {
            #expect(throws: RequestScan.Failure.invalid, "\(text)") { try Array(text.utf8).withUnsafeBytes { try RequestScan($0) } }
        }
        for text in ["[1,2]", "\"text\"", " 42 ", "null"] {
            #expect(throws: RequestScan.Failure.notAnObject, "\(text)") { try Array(text.utf8).withUnsafeBytes { try RequestScan($0) } }
        }
        let bad: [UInt8] = Array("{\"a\":\"".utf8) + [0xC3, 0x28] + Array("\"}".utf8)   // invalid UTF-8
        #expect(throws: RequestScan.Failure.invalid) { try bad.withUnsafeBytes { try RequestScan($0) } }
        _ = try Array("{}".utf8).withUnsafeBytes { try RequestScan($0) }
    }

    @Test("a stream is made to ask for usage, whatever stream_options held; nothing else changes")
    func askingForUsage() throws {
        let cases: [(String, [String: Any])] = [
            (#"{"stream":true,"model":"m"}"#, [:]),
            (#"{"stream":true,"stream_options":null}"#, [:]),
            (#"{"stream":true,"stream_options":{}}"#, [:]),
            (#"{"stream":true,"stream_options":{"other":1}}"#, ["other": 1]),
            (#"{"stream":true,"stream_options":{"include_usage":false,"other":"x"}}"#, ["other": "x"]),
        ]
        for (text, otherOptions) in cases {
            let scan = try Array(text.utf8).withUnsafeBytes { try RequestScan($0) }
            #expect(scan.stream)
            #expect(scan.includeUsage?.isTrue != true)
            let rewritten = Array(text.utf8).withUnsafeBytes { scan.askingForUsage($0) }
            let json = try #require(try JSONSerialization.jsonObject(with: Data(rewritten)) as? [String: Any], "\(text)")
            let options = try #require(json["stream_options"] as? [String: Any], "\(String(decoding: rewritten, as: UTF8.self))")
            #expect(options["include_usage"] as? Bool == true)
            #expect(options.count == otherOptions.count + 1)
            #expect(json["stream"] as? Bool == true)
            let again = try rewritten.withUnsafeBytes { try RequestScan($0) }
            #expect(again.includeUsage?.isTrue == true)
        }
        let asked = try Array(#"{"stream":true,"stream_options":{"include_usage":true}}"#.utf8).withUnsafeBytes { try RequestScan($0) }
        #expect(asked.includeUsage?.isTrue == true)
    }
}
