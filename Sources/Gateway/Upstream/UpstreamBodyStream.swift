import NIOCore

/// A streamed answer body from one upstream connection, chunk by chunk as the upstream sends
/// them. Back-pressure reaches the socket: while the client reads slowly, the connection stops
/// reading. Ending the iteration early (the client went away) closes the upstream connection.
struct UpstreamBodyStream: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    typealias Producer = NIOThrowingAsyncSequenceProducer<
        ByteBuffer, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, Demand
    >

    let producer: Producer

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Producer.AsyncIterator
        mutating func next() async throws -> ByteBuffer? { try await base.next() }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: producer.makeAsyncIterator()) }

    /// Carries the consumer's demand back to the connection, on its event loop.
    struct Demand: NIOAsyncSequenceProducerDelegate {
        let connection: NIOLoopBound<UpstreamConnection>

        func produceMore() {
            connection.eventLoop.execute { connection.value.consumerWantsMore() }
        }

        func didTerminate() {
            connection.eventLoop.execute { connection.value.consumerGone() }
        }
    }

    /// A stream fed by `connection`, and the source it yields into.
    static func make(for connection: UpstreamConnection, on eventLoop: any EventLoop) -> (Producer.Source, UpstreamBodyStream) {
        let made = Producer.makeSequence(
            elementType: ByteBuffer.self, failureType: (any Error).self,
            backPressureStrategy: .init(lowWatermark: 2, highWatermark: 8), finishOnDeinit: false,
            delegate: Demand(connection: NIOLoopBound(connection, eventLoop: eventLoop)))
        return (made.source, UpstreamBodyStream(producer: made.sequence))
    }
}
