namespace Storage.Consistency;

public enum CheckOutcome
{
    /// <summary>A linearization exists.</summary>
    Ok,

    /// <summary>No linearization exists: the store violated linearizability (or its version contract).</summary>
    Illegal,

    /// <summary>The search ran out of budget before deciding.</summary>
    Unknown,
}
