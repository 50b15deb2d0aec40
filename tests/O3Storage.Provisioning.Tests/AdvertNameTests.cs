using O3Storage.Provisioning.Avahi;

namespace O3Storage.Provisioning.Tests;

public sealed class AdvertNameTests
{
    [Fact]
    public void AnEcho_OneCollision_KeepsTheName()
    {
        var name = new AdvertName("o3storage on board");
        Assert.False(name.Collided());
        name.Established();
        Assert.Equal("o3storage on board", name.Current);

        // Established in between: a later collision is a first one again.
        Assert.False(name.Collided());
        name.Established();
        Assert.False(name.Collided());
        Assert.Equal("o3storage on board", name.Current);
    }

    [Fact]
    public void ARival_TwoCollisionsInARow_GivesTheNameUp_AndTheNewNameGetsItsOwnCount()
    {
        var name = new AdvertName("o3storage on board");
        Assert.False(name.Collided());
        Assert.True(name.Collided());
        name.Rename("o3storage on board #2");
        Assert.Equal("o3storage on board #2", name.Current);

        Assert.False(name.Collided());
        Assert.True(name.Collided());
    }
}
