using System.Net;
using System.Security.Cryptography.X509Certificates;
using O3Storage.Cluster.Security;

namespace O3Storage.Cluster.Tests.Security;

public sealed class ClusterTrustTests
{
    private static readonly IPAddress s_one = IPAddress.Parse("127.0.0.1");
    private static readonly IPAddress s_two = IPAddress.Parse("127.0.0.2");

    private static ClusterTrust TrustFor(X509Certificate2 authority, IPAddress ip, TimeProvider? time = null) =>
        new(authority, TestCertificates.Node(authority, ip.ToString()), time ?? TimeProvider.System);

    [Fact]
    public void APeerCertificateOfTheClusterCa_NamingTheAddressDialled_IsAccepted_ByCommonNameAsTheGuideMakesThem_OrBySan()
    {
        using X509Certificate2 authority = TestCertificates.Authority();
        using ClusterTrust trust = TrustFor(authority, s_one);
        using X509Certificate2 guideStyle = TestCertificates.Node(authority, s_two.ToString());
        using X509Certificate2 withSan = TestCertificates.Node(authority, "node-2", san: s_two);

        Assert.Null(trust.Refusal(guideStyle, s_two));
        Assert.Null(trust.Refusal(withSan, s_two));
        Assert.Null(trust.Refusal(guideStyle, expected: null)); // a peer that connected: its address is not known here
        Assert.Equal([s_two], ClusterTrust.AddressesOf(withSan));
    }

    [Fact]
    public void ACertificateOfAnotherCa_IsRefused_SayingWhichCaItWants()
    {
        using X509Certificate2 authority = TestCertificates.Authority("o3 cluster CA");
        using X509Certificate2 stranger = TestCertificates.Authority("someone else's CA");
        using ClusterTrust trust = TrustFor(authority, s_one);
        using X509Certificate2 foreign = TestCertificates.Node(stranger, s_two.ToString());

        string? refusal = trust.Refusal(foreign, s_two);
        Assert.NotNull(refusal);
        Assert.Contains("not issued by this cluster's CA (CN=o3 cluster CA)", refusal, StringComparison.Ordinal);
        Assert.Contains("CN=127.0.0.2", refusal, StringComparison.Ordinal);
        Assert.NotNull(trust.Refusal(foreign, expected: null));
    }

    [Fact]
    public void ACertificateOfAnotherCaWithTheSameName_IsRefused_SayingItIsAnotherCa()
    {
        using X509Certificate2 authority = TestCertificates.Authority("Internet Widgits Pty Ltd");
        using X509Certificate2 twin = TestCertificates.Authority("Internet Widgits Pty Ltd");
        using ClusterTrust trust = TrustFor(authority, s_one);
        using X509Certificate2 foreign = TestCertificates.Node(twin, s_two.ToString());

        Assert.Contains("is signed by a different CA with the same name as this cluster's CA (CN=Internet Widgits Pty Ltd)", trust.Refusal(foreign, s_two), StringComparison.Ordinal);
    }

    [Fact]
    public void ASelfSignedCertificate_TheCasOwn_AndNone_AreRefused()
    {
        using X509Certificate2 authority = TestCertificates.Authority();
        using ClusterTrust trust = TrustFor(authority, s_one);
        using X509Certificate2 selfSigned = TestCertificates.Authority(s_two.ToString());

        Assert.Contains("not issued by this cluster's CA", trust.Refusal(selfSigned, s_two), StringComparison.Ordinal);
        Assert.Contains("the CA's own certificate", trust.Refusal(authority, null), StringComparison.Ordinal);
        Assert.Equal("it presented no certificate", trust.Refusal(null, s_two));
    }

    [Fact]
    public void ACertificateForAnotherAddress_IsRefusedWhenDialled()
    {
        using X509Certificate2 authority = TestCertificates.Authority();
        using ClusterTrust trust = TrustFor(authority, s_one);
        using X509Certificate2 other = TestCertificates.Node(authority, "127.0.0.3");

        Assert.Equal("its certificate (CN=127.0.0.3, issued by CN=o3 test CA, expires " + other.NotAfter.ToUniversalTime().ToString("yyyy-MM-dd") + ") names 127.0.0.3, not 127.0.0.2, the address it was reached at", trust.Refusal(other, s_two));
        Assert.Null(trust.Refusal(other, IPAddress.Parse("127.0.0.3").MapToIPv6()));
    }

    [Fact]
    public void AnExpiredOrNotYetValidCertificate_IsRefused_AtTheTimeGiven()
    {
        using X509Certificate2 authority = TestCertificates.Authority(notAfter: DateTimeOffset.UtcNow.AddYears(5));
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        using ClusterTrust trust = new(authority, TestCertificates.Node(authority, s_one.ToString(), notAfter: DateTimeOffset.UtcNow.AddYears(2)), time);
        using X509Certificate2 shortLived = TestCertificates.Node(authority, s_two.ToString(), notAfter: DateTimeOffset.UtcNow.AddDays(1));
        using X509Certificate2 future = TestCertificates.Node(authority, s_two.ToString(), notBefore: DateTimeOffset.UtcNow.AddDays(3), notAfter: DateTimeOffset.UtcNow.AddDays(10));

        Assert.Null(trust.Refusal(shortLived, s_two));
        Assert.Contains("is not valid now", trust.Refusal(future, s_two), StringComparison.Ordinal);
        time.Advance(TimeSpan.FromDays(2));
        Assert.Contains("is not valid now", trust.Refusal(shortLived, s_two), StringComparison.Ordinal);
    }

    [Fact]
    public void ANodeCertificateWithoutItsKey_OrNotOfTheCa_CannotBeThisNodesOwn()
    {
        using X509Certificate2 authority = TestCertificates.Authority();
        using X509Certificate2 stranger = TestCertificates.Authority("stranger");
        using X509Certificate2 withKey = TestCertificates.Node(authority, s_one.ToString());
        X509Certificate2 withoutKey = X509CertificateLoader.LoadCertificate(withKey.RawData);

        Assert.Contains("without its private key", Assert.Throws<ArgumentException>(() => new ClusterTrust(authority, withoutKey, TimeProvider.System)).Message, StringComparison.Ordinal);
        Assert.Contains("not issued by this cluster's CA", Assert.Throws<ArgumentException>(() => new ClusterTrust(authority, TestCertificates.Node(stranger, s_one.ToString()), TimeProvider.System)).Message, StringComparison.Ordinal);
    }
}
