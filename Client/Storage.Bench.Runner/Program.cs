using Storage.Bench;

// storage-bench: `storage bench` without the CLI; all of its logic lives in BenchCommand.
return await BenchCommand.RunStandaloneAsync(args, Console.Out, Console.Error);
