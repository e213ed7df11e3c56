using System.Text.Json;
using System.Text.RegularExpressions;

namespace Ketch.Server.Tests;

/// <summary>The JSON gateway's <c>/v3/auth/*</c> (etcd 3.4's grpc-gateway paths): one script of
/// HTTP calls against a ketch member and a real etcd, status codes and bodies compared after
/// masking headers and tokens; the token from <c>/v3/auth/authenticate</c> goes in the
/// <c>Authorization</c> header of later calls, <c>/v3/kv/*</c> included.</summary>
public sealed partial class AuthGatewayTests(CompatFixture fx) : IClassFixture<CompatFixture>
{
    /// <summary>Each step: path, JSON body, whose token goes in <c>Authorization</c> (-, root, alice, bad).</summary>
    private static readonly (string Path, string Body, string Who)[] s_script =
    [
        ("/v3/auth/user/add", """{"name":"root","password":"rootpw"}""", "-"),
        ("/v3/auth/user/add", """{"name":"root","password":"x"}""", "-"),
        ("/v3/auth/user/grant", """{"user":"root","role":"root"}""", "-"),
        ("/v3/auth/role/add", """{"name":"r"}""", "-"),
        ("/v3/auth/role/grant", """{"name":"r","perm":{"key":"YQ==","range_end":"Yg==","permType":"READWRITE"}}""", "-"),
        ("/v3/auth/role/grant", """{"name":"r","perm":{"key":"eA==","permType":"READ"}}""", "-"),
        ("/v3/auth/role/grant", """{"name":"nope","perm":{"key":"eA==","permType":"READ"}}""", "-"),
        ("/v3/auth/user/add", """{"name":"alice","password":"apw"}""", "-"),
        ("/v3/auth/user/grant", """{"user":"alice","role":"r"}""", "-"),
        ("/v3/auth/user/grant", """{"user":"alice","role":"nope"}""", "-"),
        ("/v3/auth/user/list", "{}", "-"),
        ("/v3/auth/role/list", "{}", "-"),
        ("/v3/auth/role/get", """{"role":"r"}""", "-"),
        ("/v3/auth/user/get", """{"name":"alice"}""", "-"),
        ("/v3/auth/user/get", """{"name":"nobody"}""", "-"),
        ("/v3/auth/authenticate", """{"name":"root","password":"rootpw"}""", "-"),
        ("/v3/auth/enable", "{}", "-"),
        ("/v3/auth/authenticate", """{"name":"root","password":"wrong"}""", "-"),
        ("/v3/auth/authenticate", """{"name":"root","password":"rootpw"}""", "-"),
        ("/v3/auth/authenticate", """{"name":"alice","password":"apw"}""", "-"),
        ("/v3/auth/user/list", "{}", "-"),
        ("/v3/auth/user/list", "{}", "bad"),
        ("/v3/auth/user/list", "{}", "alice"),
        ("/v3/auth/user/list", "{}", "root"),
        ("/v3/auth/user/get", """{"name":"alice"}""", "alice"),
        ("/v3/auth/role/get", """{"role":"r"}""", "alice"),
        ("/v3/kv/put", """{"key":"YS8x","value":"dg=="}""", "alice"),
        ("/v3/kv/put", """{"key":"eA==","value":"dg=="}""", "alice"),
        ("/v3/kv/range", """{"key":"YS8x"}""", "alice"),
        ("/v3/kv/range", """{"key":"YS8x"}""", "-"),
        ("/v3/kv/range", """{"key":"eA=="}""", "alice"),
        ("/v3/auth/user/add", """{"name":"bob","password":"b"}""", "root"),
        ("/v3/auth/user/changepw", """{"name":"bob","password":"c"}""", "root"),
        ("/v3/auth/user/grant", """{"user":"bob","role":"r"}""", "root"),
        ("/v3/auth/user/revoke", """{"name":"bob","role":"r"}""", "root"),
        ("/v3/auth/user/revoke", """{"name":"bob","role":"r"}""", "root"),
        ("/v3/auth/role/revoke", """{"role":"r","key":"eA=="}""", "root"),
        ("/v3/auth/role/revoke", """{"role":"r","key":"eA=="}""", "root"),
        ("/v3/auth/role/get", """{"role":"r"}""", "root"),
        ("/v3/auth/user/delete", """{"name":"bob"}""", "root"),
        ("/v3/auth/user/delete", """{"name":"root"}""", "root"),
        ("/v3/auth/role/delete", """{"role":"root"}""", "root"),
        ("/v3/auth/role/delete", """{"role":"r"}""", "root"),
        ("/v3/auth/user/get", """{"name":"alice"}""", "root"),
        ("/v3/auth/disable", "{}", "alice"),
        ("/v3/auth/disable", "{}", "root"),
        ("/v3/kv/range", """{"key":"YS8x"}""", "-"),
        ("/v3/auth/user/delete", """{"name":"alice"}""", "-"),
        ("/v3/auth/user/delete", """{"name":"root"}""", "-"),
    ];

    [Fact]
    public async Task Auth_paths_match_etcds_gateway()
    {
        var ketch = await RunScriptAsync(fx.Ketch.ClientUrl);
        var etcd = await RunScriptAsync("http://" + fx.Etcd.Endpoint);
        for (var i = 0; i < s_script.Length; i++)
        {
            Assert.True(etcd[i] == ketch[i], $"step {i}: POST {s_script[i].Path} {s_script[i].Body} as {s_script[i].Who}\n--- etcd ---\n{etcd[i]}\n--- ketch ---\n{ketch[i]}");
        }
    }

    private static async Task<List<string>> RunScriptAsync(string baseUrl)
    {
        using var http = new HttpClient();
        var tokens = new Dictionary<string, string> { ["bad"] = "not-a-token" };
        var results = new List<string>();
        foreach (var (path, body, who) in s_script)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, baseUrl + path) { Content = new StringContent(body) };
            if (who != "-")
            {
                request.Headers.TryAddWithoutValidation("Authorization", tokens[who]);
            }
            using var response = await http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            if (path == "/v3/auth/authenticate" && response.IsSuccessStatusCode)
            {
                // The token goes in the Authorization header of the calls that follow.
                tokens[JsonDocument.Parse(body).RootElement.GetProperty("name").GetString()!] =
                    JsonDocument.Parse(text).RootElement.GetProperty("token").GetString()!;
            }
            results.Add($"{(int)response.StatusCode} {Mask(text)}");
        }
        return results;
    }

    /// <summary>Compact JSON (Google.Protobuf's formatter spaces its output, grpc-gateway's does
    /// not; the structure is what clients read), then headers and tokens masked.</summary>
    private static string Mask(string s)
    {
        try
        {
            s = JsonSerializer.Serialize(JsonDocument.Parse(s).RootElement);
        }
        catch (JsonException)
        {
            // Not JSON (e.g. a plain 404): compared as is.
        }
        return Token().Replace(Header().Replace(s, "\"header\":{}"), "\"token\":\"T\"");
    }

    [GeneratedRegex("\"header\":\\{[^}]*\\}")]
    private static partial Regex Header();

    [GeneratedRegex("\"token\":\"[^\"]*\"")]
    private static partial Regex Token();
}
