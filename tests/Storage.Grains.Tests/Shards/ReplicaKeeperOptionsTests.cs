using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Storage.Shards;

namespace Storage.Grains.Tests.Shards;

public class ReplicaKeeperOptionsTests
{
    [Fact]
    public void Defaults_are_valid()
    {
        Assert.True(new ReplicaKeeperOptionsValidator().Validate(null, new ReplicaKeeperOptions()).Succeeded);
    }

    [Fact]
    public void Each_failure_names_the_setting()
    {
        var result = new ReplicaKeeperOptionsValidator().Validate(null, new ReplicaKeeperOptions
        {
            Period = TimeSpan.Zero,
            HomeStableFor = TimeSpan.FromSeconds(-1),
        });

        Assert.True(result.Failed);
        Assert.Equal(
            ["Storage:Keeper:Period must be positive (got 00:00:00)", "Storage:Keeper:HomeStableFor must not be negative (got -00:00:01)"],
            result.Failures);
    }

    [Fact]
    public void Options_bind_from_the_Storage_Keeper_section()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:Keeper:Period"] = "00:00:00.250",
            ["Storage:Keeper:HomeStableFor"] = "00:00:02",
        }).Build();
        var services = new ServiceCollection();
        services.AddOptions<ReplicaKeeperOptions>().Bind(configuration.GetSection(ReplicaKeeperOptions.SectionName));

        var options = services.BuildServiceProvider().GetRequiredService<IOptions<ReplicaKeeperOptions>>().Value;

        Assert.Equal(TimeSpan.FromMilliseconds(250), options.Period);
        Assert.Equal(TimeSpan.FromSeconds(2), options.HomeStableFor);
    }
}
