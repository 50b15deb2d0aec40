// Owns: one o3ctl run's connection and output: the resolved settings, the node API, where text goes and
// whether it is JSON. Commands write their results through it, so --json and errors look the same in each.
using System.Text.Json;
using O3Storage.Ctl.Api;
using Spectre.Console;

namespace O3Storage.Ctl;

public sealed class CtlContext(NodeApi api, IAnsiConsole console, TextWriter output, TextWriter error, bool json)
{
    public NodeApi Api { get; } = api;

    /// <summary>Human output: tables, markup, progress (plain text when stdout is not a terminal).</summary>
    public IAnsiConsole Console { get; } = console;

    /// <summary>Where JSON goes (stdout).</summary>
    public TextWriter Output { get; } = output;

    public TextWriter Error { get; } = error;

    public bool Json { get; } = json;

    /// <summary>Prints a node's JSON answer as it came (--json), or the human line otherwise.</summary>
    public void Result(AdminReply reply, Func<string> human)
    {
        if (Json)
        {
            WriteJson(reply.Body);
        }
        else
        {
            Console.MarkupLine(human());
        }
    }

    /// <summary>Writes JSON text to stdout, indented, one document.</summary>
    public void WriteJson(string text)
    {
        using JsonDocument document = JsonDocument.Parse(text);
        Output.WriteLine(JsonSerializer.Serialize(document.RootElement, JsonText.Pretty.JsonElement));
        Output.Flush();
    }

    public static T Parse<T>(AdminReply reply, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        try
        {
            return JsonSerializer.Deserialize(reply.Body, type) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new CtlException(ExitCode.Refused, $"{NodeApi.Authority(reply.Node)} gave an answer o3ctl cannot read: {e.Message}", "is it an O3StorageOS node?");
        }
    }
}
