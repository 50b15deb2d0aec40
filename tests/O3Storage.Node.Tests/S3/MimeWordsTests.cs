using O3Storage.Node.S3;

namespace O3Storage.Node.Tests.S3;

public sealed class MimeWordsTests
{
    [Theory]
    [InlineData("plain ascii, with\ttab", "plain ascii, with\ttab")]
    [InlineData("Hello World\u00e9", "=?UTF-8?B?SGVsbG8gV29ybGTDqQ==?=")]
    [InlineData("日本語", "=?UTF-8?B?5pel5pys6Kqe?=")]
    public void Encode_LeavesPrintableAsciiAlone_AndBEncodesTheRest(string value, string encoded)
    {
        Assert.Equal(encoded, MimeWords.Encode(value));
        Assert.Equal(value, MimeWords.Decode(encoded));
    }

    [Theory]
    [InlineData("=?utf-8?q?caf=C3=A9_au_lait?=", "café au lait")]
    [InlineData("=?ISO-8859-1?Q?caf=E9?=", "café")]
    [InlineData("x =?UTF-8?Q?a?= =?UTF-8?Q?b?= y", "x ab y")] // the space between two words goes, the others stay
    [InlineData("no words here", "no words here")]
    [InlineData("=?UTF-8?B?not base64!?=", "=?UTF-8?B?not base64!?=")] // malformed: kept as sent
    [InlineData("=?UTF-8?B?/w==?=", "=?UTF-8?B?/w==?=")] // not UTF-8: kept as sent
    [InlineData("=?KOI8-R?B?5pel?=", "=?KOI8-R?B?5pel?=")] // a charset not decoded here: kept as sent
    [InlineData("=?UTF-8?Q?=4?=", "=?UTF-8?Q?=4?=")]
    public void Decode_ReadsEncodedWords_AndKeepsWhatItCannot(string value, string text) => Assert.Equal(text, MimeWords.Decode(value));
}
