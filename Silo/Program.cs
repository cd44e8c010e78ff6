Console.WriteLine("Storage silo");
