using System.Text.RegularExpressions;

namespace EtcdServerless.Infra.Tests.Deploy;

/// <summary>
/// The project's own structural check of deploy/docker/*.Dockerfile (written by us; the two linters in
/// .ci/check-deploy check syntax and general practice, not this policy): pinned base images, a non-root numeric user
/// in the final stage, exec-form entry point, no secret in ENV/ARG, images built from the checksummed release
/// archives only, keys and backups on separate volumes.
/// </summary>
public sealed partial class DockerfilePolicyTests
{
    [Theory]
    [InlineData("cli.Dockerfile")]
    [InlineData("agent.Dockerfile")]
    public void BaseImages_AllPinnedToATag(string file)
    {
        var dockerfile = Dockerfile.Parse(Read(file));

        var froms = dockerfile.Instructions.Where(i => i.Keyword == "FROM").ToList();
        Assert.True(froms.Count >= 2, "a build stage that checks the archive, and the runtime stage");
        foreach (var from in froms)
        {
            var image = dockerfile.Resolve(from.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).First(a => !a.StartsWith("--", StringComparison.Ordinal)));
            Assert.True(PinnedImage().IsMatch(image), $"{file}: base image '{image}' is not pinned to a version tag");
        }
    }

    [Theory]
    [InlineData("cli.Dockerfile")]
    [InlineData("agent.Dockerfile")]
    public void FinalStage_NonRootNumericUserAndExecFormEntryPoint(string file)
    {
        var final = Dockerfile.Parse(Read(file)).FinalStage();

        var user = Assert.Single(final, i => i.Keyword == "USER").Arguments;
        var match = NumericUser().Match(user);
        Assert.True(match.Success, $"{file}: USER '{user}' must be numeric (uid:gid) so runAsNonRoot can verify it");
        Assert.NotEqual("0", match.Groups["uid"].Value);
        Assert.StartsWith("[", Assert.Single(final, i => i.Keyword == "ENTRYPOINT").Arguments, StringComparison.Ordinal);
        Assert.DoesNotContain(final, i => i.Keyword is "ADD" or "RUN");
    }

    [Theory]
    [InlineData("cli.Dockerfile")]
    [InlineData("agent.Dockerfile")]
    public void Image_NoSecretsBakedIn_BuiltFromChecksummedArchives(string file)
    {
        var dockerfile = Dockerfile.Parse(Read(file));

        foreach (var instruction in dockerfile.Instructions.Where(i => i.Keyword is "ENV" or "ARG"))
        {
            Assert.False(SecretName().IsMatch(instruction.Arguments), $"{file}: '{instruction.Keyword} {instruction.Arguments}' looks like a secret");
        }

        var copies = dockerfile.Instructions.Where(i => i.Keyword == "COPY" && !i.Arguments.StartsWith("--from=", StringComparison.Ordinal)).ToList();
        var copy = Assert.Single(copies);
        Assert.All(copy.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).SkipLast(1), source => Assert.StartsWith("artifacts/release/", source, StringComparison.Ordinal));
        Assert.Contains(dockerfile.Instructions, i => i.Keyword == "RUN" && i.Arguments.Contains("sha256sum -c", StringComparison.Ordinal));
        Assert.DoesNotContain(dockerfile.Instructions, i => i.Keyword == "ADD");
    }

    [Fact]
    public void CliImage_StoreAndKeysOnSeparateVolumes_DefaultsPointIntoThem()
    {
        var final = Dockerfile.Parse(Read("cli.Dockerfile")).FinalStage();

        var volumes = Assert.Single(final, i => i.Keyword == "VOLUME").Arguments;
        Assert.Equal("[\"/var/lib/etcd-backup\", \"/etc/etcd-backup/keys\"]", volumes);
        // The tool's defaults for a non-root user are $XDG_STATE_HOME/etcd-backup/store and
        // $XDG_CONFIG_HOME/etcd-backup/keys (docs/configuration.md): both land on a volume, on different ones.
        var env = string.Join(' ', final.Where(i => i.Keyword == "ENV").Select(i => i.Arguments));
        Assert.Contains("XDG_STATE_HOME=/var/lib", env, StringComparison.Ordinal);
        Assert.Contains("XDG_CONFIG_HOME=/etc", env, StringComparison.Ordinal);
    }

    [Fact]
    public void AgentImage_CarriesEtcdRestoreTools()
    {
        var final = Dockerfile.Parse(Read("agent.Dockerfile")).FinalStage();

        var tools = Assert.Single(final, i => i.Keyword == "COPY" && i.Arguments.StartsWith("--from=etcd ", StringComparison.Ordinal)).Arguments;
        Assert.Contains("/usr/local/bin/etcdutl", tools, StringComparison.Ordinal);
        Assert.Contains("/usr/local/bin/etcdctl", tools, StringComparison.Ordinal);
    }

    [Fact]
    public void DockerIgnore_AdmitsOnlyTheReleaseArchives()
    {
        var lines = RepositoryFiles.Read(".dockerignore").ReplaceLineEndings("\n").Split('\n')
            .Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();

        Assert.Equal(["*", "!artifacts/release/*.tar.gz", "!artifacts/release/SHA256SUMS"], lines);
    }

    [Fact]
    public void Parse_ContinuationsAndStages_AreRead()
    {
        // The parser the checks above rely on: continuation lines join, comments drop, stages split at FROM.
        var dockerfile = Dockerfile.Parse("""
            # comment
            ARG TAG=1.2
            FROM example/a:${TAG} AS one
            RUN a \
                && b
            FROM example/b:3
            USER 10:10
            """);

        Assert.Equal(["ARG", "FROM", "RUN", "FROM", "USER"], dockerfile.Instructions.Select(i => i.Keyword));
        Assert.Equal("a && b", dockerfile.Instructions[2].Arguments);
        Assert.Equal("example/a:1.2", dockerfile.Resolve("example/a:${TAG}"));
        Assert.Equal(["USER"], dockerfile.FinalStage().Select(i => i.Keyword));
        Assert.DoesNotMatch(PinnedImage(), "example/a");
        Assert.DoesNotMatch(PinnedImage(), "example/a:latest");
    }

    private static string Read(string file) => RepositoryFiles.Read("deploy", "docker", file);

    [GeneratedRegex(@"^[a-z0-9.\-/]+(:[0-9]+)?[a-z0-9.\-/]*:v?[0-9][0-9A-Za-z.\-]*$")]
    private static partial Regex PinnedImage();

    [GeneratedRegex(@"^(?<uid>[0-9]+)(:[0-9]+)?$")]
    private static partial Regex NumericUser();

    [GeneratedRegex(@"(?i)(password|secret|token|apikey|api_key|accountkey|private)")]
    private static partial Regex SecretName();

    private sealed record Instruction(string Keyword, string Arguments);

    /// <summary>Just enough of the Dockerfile grammar for the policy: instructions, line continuations, ARG defaults.</summary>
    private sealed class Dockerfile
    {
        private Dockerfile(List<Instruction> instructions) => Instructions = instructions;

        public List<Instruction> Instructions { get; }

        public static Dockerfile Parse(string text)
        {
            var instructions = new List<Instruction>();
            var pending = "";
            foreach (var raw in text.ReplaceLineEndings("\n").Split('\n'))
            {
                var line = raw.Trim();
                if (line.StartsWith('#') || (line.Length == 0 && pending.Length == 0))
                {
                    continue;
                }

                if (line.EndsWith('\\'))
                {
                    pending += line[..^1].Trim() + " ";
                    continue;
                }

                line = (pending + line).Trim();
                pending = "";
                if (line.Length == 0)
                {
                    continue;
                }

                var space = line.IndexOf(' ', StringComparison.Ordinal);
                instructions.Add(space < 0
                    ? new Instruction(line.ToUpperInvariant(), "")
                    : new Instruction(line[..space].ToUpperInvariant(), line[(space + 1)..].Trim()));
            }

            return new Dockerfile(instructions);
        }

        public List<Instruction> FinalStage() =>
            Instructions.Skip(Instructions.FindLastIndex(i => i.Keyword == "FROM") + 1).ToList();

        /// <summary>Replaces ${NAME} and $NAME with the default of a global ARG (declared before the first FROM).</summary>
        public string Resolve(string value)
        {
            foreach (var arg in Instructions.TakeWhile(i => i.Keyword != "FROM").Where(i => i.Keyword == "ARG"))
            {
                var parts = arg.Arguments.Split('=', 2);
                if (parts.Length == 2)
                {
                    value = value.Replace("${" + parts[0] + "}", parts[1], StringComparison.Ordinal).Replace("$" + parts[0], parts[1], StringComparison.Ordinal);
                }
            }

            return value;
        }
    }
}
