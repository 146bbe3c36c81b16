import BucketscopeCommands

await BucketscopeCommand.main()
