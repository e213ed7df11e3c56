using YamlDotNet.RepresentationModel;

namespace Ketch;

/// <summary>etcd's YAML configuration file: top-level keys named as the flags
/// (<c>name: infra1</c>, <c>listen-client-urls: http://...</c>, <c>heartbeat-interval: 100</c>).</summary>
internal static class ConfigFile
{
    public static Dictionary<string, string> Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new ArgumentException($"cannot load config file {path}: no such file");
        }
        var yaml = new YamlStream();
        try
        {
            using var reader = new StreamReader(path);
            yaml.Load(reader);
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new ArgumentException($"config file {path}: {e.Message}");
        }
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (yaml.Documents.Count == 0)
        {
            return result;
        }
        if (yaml.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new ArgumentException($"config file {path}: expected a mapping of flag names to values");
        }
        foreach (var (keyNode, valueNode) in root.Children)
        {
            var key = ((YamlScalarNode)keyNode).Value ?? "";
            switch (valueNode)
            {
                case YamlScalarNode s:
                    // YAML null (`key:` or `~`) means "not set": keep the default.
                    if (s.Value is { Length: > 0 } text && text != "~" && text != "null")
                    {
                        result[key] = text;
                    }
                    break;
                case YamlSequenceNode seq:
                    result[key] = string.Join(",", seq.Children.OfType<YamlScalarNode>().Select(c => c.Value));
                    break;
                default:
                    break; // nested sections (TLS settings, ...) are not flags
            }
        }
        return result;
    }
}
