using System.Globalization;

namespace Ketch.Ctl;

/// <summary>A flag as cobra/pflag knows it: <c>--name value</c>, <c>--name=value</c>, <c>-s value</c>; booleans take no value
/// unless written <c>--name=false</c>. <paramref name="Usage"/> and <paramref name="Kind"/> are what help shows
/// (<see cref="Help"/>); <paramref name="Kind"/> also makes the parser check numbers and durations as pflag does.</summary>
internal sealed record Flag(string Name, bool IsBool = false, string? Short = null, string Default = "", string Usage = "", FlagKind Kind = FlagKind.String);

/// <summary>pflag's value types that etcdctl's flags use (booleans are <see cref="Flag.IsBool"/>).</summary>
internal enum FlagKind
{
    /// <summary>A string; help shows its default quoted.</summary>
    String,

    /// <summary>An integer (Go's int/int64): checked when parsed.</summary>
    Int,

    /// <summary>A Go duration (<c>5s</c>, <c>1m30s</c>): checked when parsed.</summary>
    Duration,

    /// <summary>A string slice (<c>--endpoints</c>): repeats append; help shows <c>[a,b]</c>.</summary>
    StringSlice,
}

/// <summary>The parsed command line: flag values and positional arguments.</summary>
internal sealed class ParsedArgs
{
    private readonly Dictionary<string, string> _values = [];
    private readonly Dictionary<string, Flag> _specs = [];

    public List<string> Positional { get; } = [];

    /// <summary>The arguments after a lone <c>--</c> (also at the end of <see cref="Positional"/>); null without one.</summary>
    public IReadOnlyList<string>? AfterSeparator { get; private set; }

    public bool IsSet(string name) => _values.ContainsKey(name);

    public string Get(string name) =>
        _values.TryGetValue(name, out var v) ? v : _specs.TryGetValue(name, out var f) ? f.Default : "";

    public bool Bool(string name) => Get(name) is "true" or "1" or "t" or "T" or "TRUE" or "True";

    public long Long(string name)
    {
        var s = Get(name);
        if (s.Length == 0)
        {
            return 0;
        }
        return long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new CtlException(ExitCode.Error, $"invalid argument \"{s}\" for \"--{name}\" flag: strconv.ParseInt: parsing \"{s}\": invalid syntax");
    }

    public TimeSpan Duration(string name)
    {
        var s = Get(name);
        return GoFormat.TryParseDuration(s, out var d)
            ? d
            : throw new CtlException(ExitCode.Error, $"invalid argument \"{s}\" for \"--{name}\" flag: time: invalid duration \"{s}\"");
    }

    /// <summary>Parses <paramref name="args"/> against <paramref name="flags"/>; unknown flags are an error.</summary>
    public static ParsedArgs Parse(IReadOnlyList<string> args, IEnumerable<Flag> flags)
    {
        var p = new ParsedArgs();
        foreach (var f in flags)
        {
            p._specs[f.Name] = f;
        }
        var shorts = p._specs.Values.Where(f => f.Short is not null).ToDictionary(f => f.Short!, f => f);
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (a == "--")
            {
                p.AfterSeparator = [.. args.Skip(i + 1)];
                p.Positional.AddRange(p.AfterSeparator);
                break;
            }
            if (a.Length < 2 || a[0] != '-')
            {
                p.Positional.Add(a);
                continue;
            }
            var isLong = a.StartsWith("--", StringComparison.Ordinal);
            var body = isLong ? a[2..] : a[1..];
            var eq = body.IndexOf('=', StringComparison.Ordinal);
            var name = eq >= 0 ? body[..eq] : body;
            Flag? spec = isLong ? p._specs.GetValueOrDefault(name) : shorts.GetValueOrDefault(name);
            if (spec is null)
            {
                throw new CtlException(ExitCode.Error, isLong ? $"unknown flag: --{name}" : $"unknown shorthand flag: '{name[0]}' in {a}");
            }
            string value;
            if (eq >= 0)
            {
                value = body[(eq + 1)..];
            }
            else if (spec.IsBool)
            {
                value = "true";
            }
            else if (i + 1 < args.Count)
            {
                value = args[++i];
            }
            else
            {
                throw new CtlException(ExitCode.Error, $"flag needs an argument: --{spec.Name}");
            }
            Check(spec, value);
            // pflag's string slices (--endpoints) append when repeated.
            p._values[spec.Name] = spec.Name == "endpoints" && p._values.TryGetValue(spec.Name, out var prior) ? prior + "," + value : value;
        }
        return p;
    }

    /// <summary>pflag rejects a bad number or duration while parsing, before the command runs.</summary>
    private static void Check(Flag spec, string value)
    {
        if (spec.Kind == FlagKind.Int && !long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
        {
            throw new CtlException(ExitCode.Error, $"invalid argument \"{value}\" for \"--{spec.Name}\" flag: strconv.ParseInt: parsing \"{value}\": invalid syntax");
        }
        if (spec.Kind == FlagKind.Duration && !GoFormat.TryParseDuration(value, out _))
        {
            throw new CtlException(ExitCode.Error, $"invalid argument \"{value}\" for \"--{spec.Name}\" flag: time: invalid duration \"{value}\"");
        }
    }

    /// <summary>Fills unset flags from <c>ETCDCTL_NAME</c> or <c>KETCHCTL_NAME</c> (the latter wins).</summary>
    public void FromEnvironment(IReadOnlyDictionary<string, string> env, IEnumerable<Flag> flags)
    {
        foreach (var f in flags)
        {
            if (IsSet(f.Name))
            {
                continue;
            }
            var suffix = f.Name.ToUpperInvariant().Replace('-', '_');
            if (env.TryGetValue("KETCHCTL_" + suffix, out var k) && k.Length > 0)
            {
                _values[f.Name] = k;
            }
            else if (env.TryGetValue("ETCDCTL_" + suffix, out var e) && e.Length > 0)
            {
                _values[f.Name] = e;
            }
        }
    }
}
