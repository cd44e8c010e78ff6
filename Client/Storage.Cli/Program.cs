Console.WriteLine("storage");
