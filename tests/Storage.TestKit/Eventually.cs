namespace Storage.TestKit;

/// <summary>Polls until a probe answers: for conditions the cluster reaches on its own time (elections, applies).</summary>
public static class Eventually
{
    /// <summary>The probe's first non-null answer; <see cref="TimeoutException"/> after 30 s without one.</summary>
    public static async Task<T> WaitForAsync<T>(Func<Task<T?>> probe, int pollMilliseconds = 100)
        where T : class
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("condition not reached within 30 s");
            }

            await Task.Delay(pollMilliseconds);
        }
    }
}
