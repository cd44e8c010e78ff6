using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Storage.Raft.Tests")]
