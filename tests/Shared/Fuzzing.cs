// Shared by the test projects that fuzz parsers (linked into each): the inputs and the time budget.
using System.Globalization;
using System.Text;
using CsCheck;

namespace O3Storage.Tests.Fuzzing;

/// <summary>
/// Property-based fuzzing with CsCheck: random bytes and mutations of valid inputs (replaced, inserted,
/// deleted, repeated, cut and flipped bytes), each target for O3_FUZZ_SECONDS seconds (default 1: the
/// short pass in make test; make fuzz runs longer). A failure prints the input (base64) and CsCheck's
/// seed; CsCheck_Seed=SEED reruns exactly it.
/// </summary>
internal static class Fuzzing
{
    public static readonly int Seconds = int.TryParse(Environment.GetEnvironmentVariable("O3_FUZZ_SECONDS"), NumberStyles.None, CultureInfo.InvariantCulture, out int seconds) ? seconds : 1;

    public static Gen<byte[]> Inputs(params string[] seeds) => Inputs(seeds.Select(Encoding.UTF8.GetBytes).ToArray());

    /// <summary>Random bytes, or a seed with a handful of random edits: most inputs are nearly valid, which is where parsers break.</summary>
    public static Gen<byte[]> Inputs(params byte[][] seeds)
    {
        Gen<byte[]> random = Gen.Byte.Array[0, 512];
        Gen<(int Kind, int At, byte Value, int Length)> edit = Gen.Select(Gen.Int[0, 5], Gen.Int[0, int.MaxValue], Gen.Byte, Gen.Int[1, 64]);
        Gen<byte[]> mutated = Gen.Select(Gen.Int[0, seeds.Length - 1], edit.Array[1, 8], (which, edits) =>
        {
            var bytes = new List<byte>(seeds[which]);
            foreach ((int kind, int at, byte value, int length) in edits)
            {
                int position = bytes.Count == 0 ? 0 : at % bytes.Count;
                switch (kind)
                {
                    case 0 when bytes.Count > 0:
                        bytes[position] = value;
                        break;
                    case 1:
                        bytes.Insert(position, value);
                        break;
                    case 2 when bytes.Count > 0:
                        bytes.RemoveRange(position, Math.Min(length, bytes.Count - position));
                        break;
                    case 3:
                        bytes.InsertRange(position, bytes.Skip(position).Take(length).ToArray());
                        break;
                    case 4:
                        bytes.RemoveRange(position, bytes.Count - position);
                        break;
                    default:
                        if (bytes.Count > 0)
                        {
                            bytes[position] ^= (byte)(1 << (value % 8));
                        }

                        break;
                }
            }

            return bytes.ToArray();
        });
        return Gen.Frequency((1, random), (4, mutated));
    }

    /// <summary>Runs <paramref name="parse"/> on inputs for the time budget; any exception it lets out fails the test with the input.</summary>
    public static void Run(Gen<byte[]> inputs, Action<byte[]> parse) =>
        inputs.Sample(parse, time: Seconds, threads: 1, print: bytes => Convert.ToBase64String(bytes));
}
