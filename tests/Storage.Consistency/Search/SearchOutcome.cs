namespace Storage.Consistency;

internal enum SearchOutcome
{
    Linearizable,
    Illegal,
    BudgetExceeded,
}
