import BucketscopeCommands

@main
struct Entry {
    static func main() async {
        await BucketscopeCommand.runMain()
    }
}
