using YamlDotNet.RepresentationModel;

namespace Ketch;

/// <summary>etcd's YAML configuration file: top-level keys named as the flags
/// (<c>name: infra1</c>, <c>listen-client-urls: http://...</c>, <c>heartbeat-interval: 100</c>), and
/// its TLS sections <c>client-transport-security</c> and <c>peer-transport-security</c> whose keys
/// (<c>cert-file</c>, <c>key-file</c>, <c>client-cert-file</c>, <c>client-key-file</c>,
/// <c>client-cert-auth</c>, <c>trusted-ca-file</c>, <c>auto-tls</c>) become the flags of the same
/// name, with <c>peer-</c> for the peer section.
/// A YAML list (<c>cipher-suites:</c>, URL lists) becomes the flag's comma-separated value.</summary>
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
                case YamlMappingNode section when key is "client-transport-security" or "peer-transport-security":
                    LoadTransportSecurity(section, key == "peer-transport-security" ? "peer-" : "", result);
                    break;
                default:
                    break; // other nested sections are not flags
            }
        }
        return result;
    }

    // etcd 3.5's securityConfig; client-cert-file and client-key-file became flags in 3.5.
    private static readonly string[] s_transportSecurityKeys = ["cert-file", "key-file", "client-cert-file", "client-key-file", "client-cert-auth", "trusted-ca-file", "auto-tls"];

    private static void LoadTransportSecurity(YamlMappingNode section, string prefix, Dictionary<string, string> result)
    {
        foreach (var (keyNode, valueNode) in section.Children)
        {
            var key = ((YamlScalarNode)keyNode).Value ?? "";
            if (s_transportSecurityKeys.Contains(key) && valueNode is YamlScalarNode { Value: { Length: > 0 } text } && text != "~" && text != "null")
            {
                result[prefix + key] = text;
            }
        }
    }
}
