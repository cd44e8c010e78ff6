namespace Storage.Bench;

/// <summary>The YCSB-style operation mixes.</summary>
public enum BenchWorkload
{
    /// <summary>Writes only.</summary>
    Write,

    /// <summary>YCSB A: 50% reads, 50% writes.</summary>
    A,

    /// <summary>YCSB B: 95% reads, 5% writes.</summary>
    B,

    /// <summary>YCSB C: reads only.</summary>
    C,
}
