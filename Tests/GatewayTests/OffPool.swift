import Foundation

/// Runs `body` on a thread of its own and awaits its result.
///
/// Swift Testing runs tests on the cooperative pool, which has one thread per core: two cores
/// here. A test that blocks (waiting for a child process, a pseudo-terminal or a real-time
/// sleep) would hold one of those threads for seconds and starve every async test in the same
/// process, the real-time ones first. Blocking work goes through this instead.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.stackSize = 8 << 20
        thread.start()
    }
}
