using Xunit;

namespace Storage.Development.Tests;

public sealed class FileLockTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "storage-lock-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose() => File.Delete(_path);

    [Fact]
    public void A_held_lock_cannot_be_taken_again_until_released()
    {
        using (var held = FileLock.TryAcquire(_path))
        {
            Assert.NotNull(held);
            Assert.Null(FileLock.TryAcquire(_path, out var failure));
            Assert.NotNull(failure);
        }

        using var again = FileLock.TryAcquire(_path);
        Assert.NotNull(again);
    }

    [Fact]
    public async Task Waiting_for_a_held_lock_times_out_and_gets_it_once_released()
    {
        var held = FileLock.TryAcquire(_path)!;
        await Assert.ThrowsAsync<TimeoutException>(() => FileLock.AcquireAsync(_path, TimeSpan.FromMilliseconds(300)));

        var waiting = FileLock.AcquireAsync(_path, TimeSpan.FromSeconds(10));
        await Task.Delay(200);
        Assert.False(waiting.IsCompleted);
        await held.DisposeAsync();
        await using var acquired = await waiting;
        Assert.Equal(_path, acquired.Path);
    }
}
