using System.Collections.Concurrent;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Ketch.Server.Http;

/// <summary>
/// Enum names in a gateway request, checked before protobuf's parser sees them. etcd's gateway
/// (Go's jsonpb) answers 400 to an enum name it does not know (<c>"sort_order": "BOGUS"</c>);
/// Google.Protobuf's parser, told to ignore unknown fields as the gateway must, silently ignores
/// unknown enum names too, so a txn compare with a misspelt target or result ran as a different
/// compare. Unknown fields stay accepted; enum numbers are left to the service (etcd 3.4 accepts
/// any number on the gateway).
/// </summary>
internal static class GatewayEnums
{
    private static readonly ConcurrentDictionary<MessageDescriptor, Dictionary<string, FieldDescriptor>> s_fields = new();

    /// <summary>Parses <paramref name="json"/> as <typeparamref name="T"/>.</summary>
    /// <exception cref="FormatException">An enum name that <typeparamref name="T"/>'s field does not define,
    /// with etcd's text (<c>unknown value "X" for enum etcdserverpb.RangeRequest_SortOrder</c>).</exception>
    /// <exception cref="InvalidProtocolBufferException">What protobuf's parser reports.</exception>
    public static T Parse<T>(JsonParser parser, string json)
        where T : IMessage, new()
    {
        if (json.Contains('"', StringComparison.Ordinal))
        {
            try
            {
                using var document = JsonDocument.Parse(json);
                if (FindUnknown(CheckedDescriptor<T>.Value, document.RootElement) is { } message)
                {
                    throw new FormatException(message);
                }
            }
            catch (JsonException)
            {
                // Malformed JSON: the parser below reports it in its own words.
            }
        }
        return parser.Parse<T>(json);
    }

    /// <summary>The error for the first unknown enum name under <paramref name="element"/>, or null.</summary>
    private static string? FindUnknown(MessageDescriptor message, JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        var fields = s_fields.GetOrAdd(message, static m =>
        {
            var byName = new Dictionary<string, FieldDescriptor>(StringComparer.Ordinal);
            foreach (var f in m.Fields.InDeclarationOrder())
            {
                byName[f.Name] = f;
                byName[f.JsonName] = f; // proto3 JSON accepts both spellings
            }
            return byName;
        });
        foreach (var property in element.EnumerateObject())
        {
            if (!fields.TryGetValue(property.Name, out var field))
            {
                continue;
            }
            string? found = null;
            if (field.IsMap && property.Value.ValueKind == JsonValueKind.Object)
            {
                var valueField = field.MessageType.FindFieldByNumber(2);
                foreach (var entry in property.Value.EnumerateObject())
                {
                    found ??= FindUnknownValue(valueField, entry.Value);
                }
            }
            else if (field.IsRepeated && property.Value.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in property.Value.EnumerateArray())
                {
                    found ??= FindUnknownValue(field, item);
                }
            }
            else
            {
                found = FindUnknownValue(field, property.Value);
            }
            if (found is not null)
            {
                return found;
            }
        }
        return null;
    }

    private static string? FindUnknownValue(FieldDescriptor field, JsonElement value) => field.FieldType switch
    {
        FieldType.Enum when value.ValueKind == JsonValueKind.String && field.EnumType.FindValueByName(value.GetString()) is null =>
            $"unknown value \"{value.GetString()}\" for enum {GoTypeName(field.EnumType)}",
        FieldType.Message => FindUnknown(field.MessageType, value),
        _ => null,
    };

    /// <summary>The Go type name etcd's message carries: the package, then the nested names joined
    /// with '_' (<c>etcdserverpb.RangeRequest.SortOrder</c> is <c>etcdserverpb.RangeRequest_SortOrder</c>).</summary>
    private static string GoTypeName(EnumDescriptor e)
    {
        var package = e.File.Package;
        var nested = package.Length > 0 ? e.FullName[(package.Length + 1)..] : e.FullName;
        return package.Length > 0 ? package + "." + nested.Replace('.', '_') : nested.Replace('.', '_');
    }

    private static class CheckedDescriptor<T>
        where T : IMessage, new()
    {
        public static readonly MessageDescriptor Value = new T().Descriptor;
    }
}
