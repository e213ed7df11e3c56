namespace Ketch.Server.Tests;

/// <summary>One member shared by the tests of a class (each test uses its own key prefix).</summary>
public sealed class SingleMemberFixture : IAsyncLifetime
{
    internal TestMember Member { get; private set; } = null!;

    public async Task InitializeAsync() => Member = await TestMember.StartSingleAsync();

    public async Task DisposeAsync() => await Member.DisposeAsync();
}
