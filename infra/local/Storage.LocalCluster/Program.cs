Console.WriteLine("local cluster");
