using System.CodeDom.Compiler;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace Issuer2.Core.Tests.Architecture;

/// <summary>
/// Dependencies point inward: the protocol core knows no web framework, no ORM, no database driver, no gRPC and
/// none of Issuer2's own adapters, and everything it declares lives under its own namespace.
/// </summary>
public sealed class CoreDependencyTests
{
    private static readonly Assembly Core = typeof(Issuer2.Core.Offers.Offer).Assembly;

    /// <summary>The names (prefixes) of the assemblies of the frameworks and adapters Core must not know.</summary>
    public static TheoryData<string> ForbiddenPrefixes => new()
    {
        "Microsoft.AspNetCore", "Microsoft.EntityFrameworkCore", "Grpc", "Google.Protobuf", "Npgsql", "Microsoft.Data.Sqlite", "Issuer2.Storage",
        "Issuer2.Server",
    };

    /// <summary>Core's references and theirs, as far as they are not the runtime's own.</summary>
    private static string[] ReferencedAssembliesTransitively()
    {
        var seen = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Queue<AssemblyName>(Core.GetReferencedAssemblies());
        while (pending.TryDequeue(out var name))
        {
            if (!seen.Add(name.Name!) || IsRuntime(name.Name!)) continue;
            foreach (var reference in Assembly.Load(name).GetReferencedAssemblies()) pending.Enqueue(reference);
        }
        return [.. seen];
    }

    private static bool IsRuntime(string name) =>
        name is "mscorlib" or "netstandard" || name.StartsWith("System", StringComparison.Ordinal) || name.StartsWith("Microsoft.Win32", StringComparison.Ordinal);

    /// <summary>Types Core's source declares, leaving out what the compiler and source generators add.</summary>
    private static Type[] DeclaredTypes() =>
        [.. Core.GetTypes().Where(t => !t.IsNested && !t.IsDefined(typeof(CompilerGeneratedAttribute), false) && !t.IsDefined(typeof(GeneratedCodeAttribute), false))];

    [Theory]
    [MemberData(nameof(ForbiddenPrefixes))]
    public void Core_ReferencesNoAssemblyOf(string prefix)
    {
        var names = Core.GetReferencedAssemblies().Select(a => a.Name!).ToArray();

        Assert.DoesNotContain(names, name => name.StartsWith(prefix, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(ForbiddenPrefixes))]
    public void Core_ReferencesNoAssemblyOfEvenThroughItsLibraries(string prefix)
    {
        var names = ReferencedAssembliesTransitively();

        Assert.Contains("Microsoft.IdentityModel.Logging", names);
        Assert.DoesNotContain(names, name => name.StartsWith(prefix, StringComparison.Ordinal));
    }

    [Fact]
    public void Core_DeclaresEveryTypeUnderItsOwnNamespace()
    {
        var declared = DeclaredTypes();
        var outside = declared.Where(t => t.Namespace is null || !(t.Namespace == "Issuer2.Core" || t.Namespace.StartsWith("Issuer2.Core.", StringComparison.Ordinal)))
            .Select(t => t.FullName).ToArray();

        Assert.Contains(typeof(Issuer2.Core.Credentials.SdJwt.SdJwtVcIssuer), declared);
        Assert.Empty(outside);
    }
}
