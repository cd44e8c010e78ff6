using Storage.Cli;

// The `storage` command; all of its logic lives in StorageCli so that tests run it in-process.
return await StorageCli.RunAsync(args, Console.Out, Console.Error);
