using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Issuer2.Core.Claims;
using Issuer2.Core.Common;
using Issuer2.Core.Credentials;
using Issuer2.Core.IdentityProviders;
using Issuer2.Core.Keys;
using Issuer2.Core.Offers;
using Issuer2.Core.Profiles;
using Issuer2.Core.Tenants;
using V1 = Issuer2.Grpc.V1;

namespace Issuer2.Server.Grpc;

/// <summary>Proto ↔ Core translation, nothing more.</summary>
internal static class ProtoMapping
{
    // Names

    public static string TenantIdOf(string? name, string field) =>
        ResourceNames.TryParseTenant(name, out var tenantId) ? tenantId : throw Errors.Invalid(field, "must be \"tenants/{tenant_id}\"");

    public static (string TenantId, string Id) ChildOf(string? name, string collection, string field) =>
        ResourceNames.TryParseChild(name, collection, out var tenantId, out var id)
            ? (tenantId, id)
            : throw Errors.Invalid(field, $"must be \"tenants/{{tenant_id}}/{collection}/{{id}}\"");

    // Scalars

    public static TimeSpan? AsTimeSpan(this Duration? d) => d?.ToTimeSpan();

    public static DateTimeOffset? AsDateTimeOffset(this Timestamp? t) => t?.ToDateTimeOffset();

    public static Timestamp? ToTimestamp(this DateTimeOffset? t) => t is { } value ? Timestamp.FromDateTimeOffset(value) : null;

    public static JsonElement ToJson(this Value? value)
    {
        if (value is null || value.KindCase == Value.KindOneofCase.None) return default;
        using var doc = JsonDocument.Parse(JsonFormatter.Default.Format(value));
        return doc.RootElement.Clone();
    }

    public static Value ToValue(this JsonElement element) => Value.Parser.ParseJson(element.GetRawText());

    public static List<ClaimValue> ToCore(this IEnumerable<V1.ClaimValue> values) => [.. values.Select(v => new ClaimValue([.. v.Path], v.Value.ToJson()))];

    public static IEnumerable<V1.ClaimValue> ToProto(this IEnumerable<ClaimValue> values) =>
        values.Select(v => new V1.ClaimValue { Path = { v.Path }, Value = v.Value.ToValue() });

    public static Logo? ToCore(this V1.Logo? logo) => logo is null ? null : new Logo(logo.Uri, NullIfEmpty(logo.AltText));

    public static V1.Logo? ToProto(this Logo? logo) => logo is null ? null : new V1.Logo { Uri = logo.Uri, AltText = logo.AltText ?? "" };

    public static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    // Enums: unspecified is "default" (null); a number outside the enum is a bad argument.

    public static AuthenticationMethod? ToCore(this V1.AuthenticationMethod m, string field) => m switch
    {
        V1.AuthenticationMethod.Unspecified => null,
        V1.AuthenticationMethod.PreAuthorized => AuthenticationMethod.PreAuthorized,
        V1.AuthenticationMethod.Authorized => AuthenticationMethod.Authorized,
        _ => throw Errors.Invalid(field, "is not a known authentication method"),
    };

    public static V1.AuthenticationMethod ToProto(this AuthenticationMethod m) =>
        m == AuthenticationMethod.PreAuthorized ? V1.AuthenticationMethod.PreAuthorized : V1.AuthenticationMethod.Authorized;

    public static DeliveryMode? ToCore(this V1.DeliveryMode m) => m switch
    {
        V1.DeliveryMode.Unspecified => null,
        V1.DeliveryMode.ByReference => DeliveryMode.ByReference,
        V1.DeliveryMode.ByValue => DeliveryMode.ByValue,
        _ => throw Errors.Invalid("delivery_mode", "is not a known delivery mode"),
    };

    public static IssuerStateMode? ToCore(this V1.IssuerStateMode m) => m switch
    {
        V1.IssuerStateMode.Unspecified => null,
        V1.IssuerStateMode.Omit => IssuerStateMode.Omit,
        V1.IssuerStateMode.Include => IssuerStateMode.Include,
        _ => throw Errors.Invalid("issuer_state_mode", "is not a known issuer state mode"),
    };

    public static TxCodeInputMode? ToCore(this V1.TxCodeInputMode m) => m switch
    {
        V1.TxCodeInputMode.Unspecified => null,
        V1.TxCodeInputMode.Numeric => TxCodeInputMode.Numeric,
        V1.TxCodeInputMode.Text => TxCodeInputMode.Text,
        _ => throw Errors.Invalid("tx_code.input_mode", "is not a known input mode"),
    };

    public static OfferState? ToCore(this V1.OfferState s) => s switch
    {
        V1.OfferState.Unspecified => null,
        V1.OfferState.Active => OfferState.Active,
        V1.OfferState.Expired => OfferState.Expired,
        V1.OfferState.Revoked => OfferState.Revoked,
        V1.OfferState.UsedUp => OfferState.UsedUp,
        V1.OfferState.Locked => OfferState.Locked,
        _ => throw Errors.Invalid("state", "is not a known offer state"),
    };

    public static V1.OfferState ToProto(this OfferState s) => s switch
    {
        OfferState.Active => V1.OfferState.Active,
        OfferState.Expired => V1.OfferState.Expired,
        OfferState.Revoked => V1.OfferState.Revoked,
        OfferState.UsedUp => V1.OfferState.UsedUp,
        OfferState.Locked => V1.OfferState.Locked,
        _ => V1.OfferState.Unspecified,
    };

    public static ClaimValueType ToCore(this V1.ClaimValueType t, string field) => t switch
    {
        V1.ClaimValueType.Unspecified or V1.ClaimValueType.String => ClaimValueType.String,
        V1.ClaimValueType.Integer => ClaimValueType.Integer,
        V1.ClaimValueType.Number => ClaimValueType.Number,
        V1.ClaimValueType.Boolean => ClaimValueType.Boolean,
        V1.ClaimValueType.Date => ClaimValueType.Date,
        V1.ClaimValueType.DateTime => ClaimValueType.DateTime,
        V1.ClaimValueType.Object => ClaimValueType.Object,
        V1.ClaimValueType.Array => ClaimValueType.Array,
        _ => throw Errors.Invalid(field, "is not a known value type"),
    };

    public static V1.ClaimValueType ToProto(this ClaimValueType t) => t switch
    {
        ClaimValueType.String => V1.ClaimValueType.String,
        ClaimValueType.Integer => V1.ClaimValueType.Integer,
        ClaimValueType.Number => V1.ClaimValueType.Number,
        ClaimValueType.Boolean => V1.ClaimValueType.Boolean,
        ClaimValueType.Date => V1.ClaimValueType.Date,
        ClaimValueType.DateTime => V1.ClaimValueType.DateTime,
        ClaimValueType.Object => V1.ClaimValueType.Object,
        ClaimValueType.Array => V1.ClaimValueType.Array,
        _ => V1.ClaimValueType.Unspecified,
    };

    // Tenants

    public static V1.Tenant ToProto(this TenantView view)
    {
        var t = view.Tenant;
        var proto = new V1.Tenant
        {
            Name = ResourceNames.Tenant(t.Id),
            TenantId = t.Id,
            CredentialIssuer = t.CredentialIssuer,
            RequirePin = t.RequirePin,
            DefaultOfferLifetime = Duration.FromTimeSpan(t.DefaultOfferLifetime),
            MaxOfferLifetime = Duration.FromTimeSpan(t.MaxOfferLifetime),
            PreAuthorizedCodeLifetime = Duration.FromTimeSpan(t.PreAuthorizedCodeLifetime),
            PinAttemptLimit = t.PinAttemptLimit,
            CreateTime = Timestamp.FromDateTimeOffset(t.CreatedAt),
            UpdateTime = Timestamp.FromDateTimeOffset(t.UpdatedAt),
        };
        proto.Display.AddRange(t.Display.Select(d => new V1.IssuerDisplay { Locale = d.Locale ?? "", Name = d.Name, Logo = d.Logo.ToProto() }));
        if (t.AllowPreAuthorized) proto.AllowedAuthenticationMethods.Add(V1.AuthenticationMethod.PreAuthorized);
        if (t.AllowAuthorized) proto.AllowedAuthenticationMethods.Add(V1.AuthenticationMethod.Authorized);
        proto.SigningKeys.AddRange(view.Keys.Select(k => new V1.SigningKey
        {
            Kid = k.Kid,
            Algorithm = k.Algorithm,
            PublicJwk = k.PublicJwk,
            Status = k.Status == SigningKeyStatus.Active ? V1.SigningKeyStatus.Active : V1.SigningKeyStatus.Retired,
            CreateTime = Timestamp.FromDateTimeOffset(k.CreatedAt),
        }));
        if (t.IdentityProvider is { } idp)
        {
            // Note: the client secret is write-only; only whether one is stored is shown.
            proto.IdentityProvider = new V1.IdentityProvider
            {
                Issuer = idp.Issuer,
                ClientId = idp.ClientId,
                ClientSecretSet = idp.EncryptedClientSecret.Length > 0,
                Scopes = { idp.Scopes },
                RedirectUri = IdentityProviderCallback.RedirectUri(t.CredentialIssuer),
            };
        }
        var authorizationServer = t.AuthorizationServer;
        proto.AuthorizationServer = new V1.AuthorizationServerSettings
        {
            ClientMode = authorizationServer.ClientMode == WalletClientMode.Registered ? V1.WalletClientMode.Registered : V1.WalletClientMode.Any,
            RegisteredClients = { authorizationServer.RegisteredClients.Select(c => new V1.WalletClient { ClientId = c.ClientId, RedirectUris = { c.RedirectUris } }) },
            RequirePushedAuthorizationRequests = authorizationServer.RequirePushedAuthorizationRequests,
            RequireIssuerState = authorizationServer.RequireIssuerState,
        };
        proto.Dpop = new V1.DpopSettings
        {
            Mode = t.Dpop.Mode switch
            {
                Core.Dpop.DpopMode.Off => V1.DpopMode.Off,
                Core.Dpop.DpopMode.Required => V1.DpopMode.Required,
                _ => V1.DpopMode.Optional,
            },
            RequireNonce = t.Dpop.RequireNonce,
        };
        return proto;
    }

    /// <summary>Reads the settings of a tenant message; with a mask, only the named fields.</summary>
    public static TenantSettings ToSettings(this V1.Tenant t, ISet<string>? mask)
    {
        bool In(string field) => mask is null || mask.Contains(field);
        return new TenantSettings(
            Display: In("display") && (mask is not null || t.Display.Count > 0)
                ? [.. t.Display.Select(d => new IssuerDisplay(NullIfEmpty(d.Locale), d.Name, d.Logo.ToCore()))]
                : null,
            AllowedMethods: In("allowed_authentication_methods") && (mask is not null || t.AllowedAuthenticationMethods.Count > 0)
                ? [.. t.AllowedAuthenticationMethods.Select((m, i) => m.ToCore($"tenant.allowed_authentication_methods[{i}]")
                    ?? throw Errors.Invalid($"tenant.allowed_authentication_methods[{i}]", "must be PRE_AUTHORIZED or AUTHORIZED"))]
                : null,
            RequirePin: In("require_pin") ? t.RequirePin : null,
            DefaultOfferLifetime: In("default_offer_lifetime") ? t.DefaultOfferLifetime?.ToTimeSpan() ?? MaskedZero(mask) : null,
            MaxOfferLifetime: In("max_offer_lifetime") ? t.MaxOfferLifetime?.ToTimeSpan() ?? MaskedZero(mask) : null,
            PreAuthorizedCodeLifetime: In("pre_authorized_code_lifetime") ? t.PreAuthorizedCodeLifetime?.ToTimeSpan() ?? MaskedZero(mask) : null,
            PinAttemptLimit: In("pin_attempt_limit") && (mask is not null || t.PinAttemptLimit != 0) ? t.PinAttemptLimit : null,
            // Both are replaced as a whole; a masked IdP left unset removes it, a masked policy left unset is the default.
            IdentityProvider: In("identity_provider") ? t.IdentityProvider?.ToCore() : null,
            RemoveIdentityProvider: mask is not null && mask.Contains("identity_provider") && t.IdentityProvider is null,
            AuthorizationServer: In("authorization_server") && (mask is not null || t.AuthorizationServer is not null)
                ? t.AuthorizationServer?.ToCore() ?? AuthorizationServerSettings.Default
                : null,
            Dpop: In("dpop") && (mask is not null || t.Dpop is not null) ? t.Dpop?.ToCore() ?? Core.Dpop.DpopSettings.Default : null);
    }

    private static Core.Dpop.DpopSettings ToCore(this V1.DpopSettings s) => new(
        s.Mode switch
        {
            V1.DpopMode.Unspecified or V1.DpopMode.Optional => Core.Dpop.DpopMode.Optional,
            V1.DpopMode.Off => Core.Dpop.DpopMode.Off,
            V1.DpopMode.Required => Core.Dpop.DpopMode.Required,
            _ => throw Errors.Invalid("tenant.dpop.mode", "is not a known DPoP mode"),
        },
        s.RequireNonce);

    private static IdentityProviderInput ToCore(this V1.IdentityProvider idp) =>
        new(idp.Issuer, idp.ClientId, NullIfEmpty(idp.ClientSecret), [.. idp.Scopes]);

    private static AuthorizationServerSettings ToCore(this V1.AuthorizationServerSettings s) => new(
        s.ClientMode switch
        {
            V1.WalletClientMode.Unspecified or V1.WalletClientMode.Any => WalletClientMode.Any,
            V1.WalletClientMode.Registered => WalletClientMode.Registered,
            _ => throw Errors.Invalid("tenant.authorization_server.client_mode", "is not a known client mode"),
        },
        [.. s.RegisteredClients.Select(c => new WalletClient(c.ClientId, [.. c.RedirectUris]))],
        RequirePushedAuthorizationRequests: !s.HasRequirePushedAuthorizationRequests || s.RequirePushedAuthorizationRequests,
        RequireIssuerState: s.RequireIssuerState);

    // On update a field named in the mask but left unset is an explicit zero (which the rules refuse); on create it means the default.
    private static TimeSpan? MaskedZero(ISet<string>? mask) => mask is null ? null : TimeSpan.Zero;

    public static ISet<string> ToMaskSet(this FieldMask? mask, IReadOnlySet<string> allowed)
    {
        if (mask is null || mask.Paths.Count == 0) throw Errors.Invalid("update_mask", "name the fields to change");
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in mask.Paths)
        {
            if (!allowed.Contains(path)) throw Errors.Invalid("update_mask", $"\"{path}\" is not a field that can be updated");
            set.Add(path);
        }
        return set;
    }

    // Profiles

    public static V1.Profile ToProto(this Profile p)
    {
        var d = p.Definition;
        var proto = new V1.Profile
        {
            Name = ResourceNames.Child(p.TenantId, ResourceNames.Profiles, p.ProfileId),
            ProfileId = p.ProfileId,
            Scope = d.Scope,
            Format = d.Format.ToProtoFormat(),
            Vct = d.Vct,
            Doctype = d.Doctype ?? "",
            CredentialTypes = { d.CredentialTypes ?? [] },
            CredentialValidity = Duration.FromTimeSpan(d.CredentialValidity),
            Version = p.Version,
            CreateTime = Timestamp.FromDateTimeOffset(p.CreatedAt),
            UpdateTime = Timestamp.FromDateTimeOffset(p.UpdatedAt),
        };
        proto.Display.AddRange(d.Display.Select(x => new V1.CredentialDisplay
        {
            Locale = x.Locale ?? "", Name = x.Name, Description = x.Description ?? "", Logo = x.Logo.ToProto(),
            BackgroundColor = x.BackgroundColor ?? "", TextColor = x.TextColor ?? "",
        }));
        proto.Claims.AddRange(d.Claims.Select(c => new V1.ClaimDefinition
        {
            Path = { c.Path },
            Display = { c.Display.Select(x => new V1.ClaimDisplay { Locale = x.Locale ?? "", Name = x.Name }) },
            Mandatory = c.Mandatory,
            SelectivelyDisclosable = c.SelectivelyDisclosable,
            ValueType = c.ValueType.ToProto(),
        }));
        proto.DefaultValues.AddRange(d.DefaultValues.ToProto());
        proto.ClaimMappings.AddRange(d.Mappings.Select(m => new V1.ClaimMapping
        {
            Path = { m.Path },
            Source = m.Source == ClaimSource.UserInfo ? V1.ClaimSource.Userinfo : V1.ClaimSource.IdToken,
            SourcePath = { m.SourcePath },
        }));
        return proto;
    }

    public static ProfileInput ToInput(this V1.Profile p, ISet<string>? mask)
    {
        bool In(string field) => mask is null || mask.Contains(field);
        return new ProfileInput(
            Scope: In("scope") && (mask is not null || p.Scope.Length > 0) ? p.Scope : null,
            Vct: In("vct") ? p.Vct : null,
            Display: In("display")
                ? [.. p.Display.Select(x => new CredentialDisplay(NullIfEmpty(x.Locale), x.Name, NullIfEmpty(x.Description), x.Logo.ToCore(),
                    NullIfEmpty(x.BackgroundColor), NullIfEmpty(x.TextColor)))]
                : null,
            Claims: In("claims")
                ? [.. p.Claims.Select((c, i) => new ClaimDefinition(
                    [.. c.Path],
                    [.. c.Display.Select(x => new ClaimDisplay(NullIfEmpty(x.Locale), x.Name))],
                    c.Mandatory,
                    c.SelectivelyDisclosable,
                    c.ValueType.ToCore($"profile.claims[{i}].value_type")))]
                : null,
            DefaultValues: In("default_values") ? p.DefaultValues.ToCore() : null,
            CredentialValidity: In("credential_validity") ? p.CredentialValidity?.ToTimeSpan() ?? MaskedZero(mask) : null,
            ClaimMappings: In("claim_mappings")
                ? [.. p.ClaimMappings.Select((m, i) => new ClaimMapping([.. m.Path], m.Source.ToCore($"profile.claim_mappings[{i}].source"), [.. m.SourcePath]))]
                : null,
            // Immutable: read on create only.
            Format: mask is null ? p.Format.ToCoreFormat() : null,
            Doctype: mask is null ? NullIfEmpty(p.Doctype) : null,
            CredentialTypes: mask is null ? [.. p.CredentialTypes] : null);
    }

    public static ClaimSource ToCore(this V1.ClaimSource source, string field) => source switch
    {
        V1.ClaimSource.Unspecified or V1.ClaimSource.IdToken => ClaimSource.IdToken,
        V1.ClaimSource.Userinfo => ClaimSource.UserInfo,
        _ => throw Errors.Invalid(field, "is not a known claim source"),
    };

    /// <summary>The format identifier of a proto format; null (the default) when unset.</summary>
    public static string? ToCoreFormat(this V1.CredentialFormat f) => f switch
    {
        V1.CredentialFormat.Unspecified => null,
        V1.CredentialFormat.DcSdJwt => CredentialFormats.SdJwtVc,
        V1.CredentialFormat.MsoMdoc => CredentialFormats.MsoMdoc,
        V1.CredentialFormat.JwtVcJson => CredentialFormats.JwtVcJson,
        _ => throw Errors.Invalid("profile.format", "is not a known credential format"),
    };

    public static V1.CredentialFormat ToProtoFormat(this string format) => format switch
    {
        CredentialFormats.SdJwtVc => V1.CredentialFormat.DcSdJwt,
        CredentialFormats.MsoMdoc => V1.CredentialFormat.MsoMdoc,
        CredentialFormats.JwtVcJson => V1.CredentialFormat.JwtVcJson,
        _ => throw new InvalidOperationException($"A stored profile has the format \"{format}\", which the API does not name."),
    };

    // Offers

    public static V1.Offer ToProto(this Offer o, DateTimeOffset now)
    {
        var proto = new V1.Offer
        {
            Name = ResourceNames.Child(o.TenantId, ResourceNames.Offers, o.Id),
            OfferId = o.Id,
            Profile = ResourceNames.Child(o.TenantId, ResourceNames.Profiles, o.ProfileId),
            ProfileVersion = o.ProfileVersion,
            AuthenticationMethod = o.Method.ToProto(),
            DeliveryMode = o.Delivery == DeliveryMode.ByReference ? V1.DeliveryMode.ByReference : V1.DeliveryMode.ByValue,
            IssuerStateMode = o.IssuerStateMode == IssuerStateMode.Include ? V1.IssuerStateMode.Include : V1.IssuerStateMode.Omit,
            State = o.StateAt(now).ToProto(),
            MaxUses = o.MaxUses,
            UseCount = o.UseCount,
            PinRequired = o.PinRequired,
            PinInputMode = o.PinInputMode switch
            {
                TxCodeInputMode.Numeric => V1.TxCodeInputMode.Numeric,
                TxCodeInputMode.Text => V1.TxCodeInputMode.Text,
                _ => V1.TxCodeInputMode.Unspecified,
            },
            PinLength = o.PinLength ?? 0,
            PinDescription = o.PinDescription ?? "",
            PinFailedAttempts = o.PinFailedAttempts,
            CreateTime = Timestamp.FromDateTimeOffset(o.CreatedAt),
            ExpireTime = Timestamp.FromDateTimeOffset(o.ExpiresAt),
            RevokeTime = o.RevokedAt.ToTimestamp(),
            LockTime = o.LockedAt.ToTimestamp(),
            ResolutionCount = o.ResolutionCount,
            IssuedCredentialCount = o.IssuedCount,
        };
        proto.Overrides.AddRange(o.Overrides.ToProto());
        return proto;
    }

    public static V1.IssuanceSession ToProto(this SessionView view)
    {
        var s = view.Session;
        var proto = new V1.IssuanceSession
        {
            Name = ResourceNames.Session(s.TenantId, s.OfferId, s.ConfigurationId, s.Id),
            CredentialConfigurationId = s.ConfigurationId,
            CreateTime = Timestamp.FromDateTimeOffset(s.CreatedAt),
            CompleteTime = s.CompletedAt.ToTimestamp(),
        };
        proto.Credentials.AddRange(view.Credentials.Select(c => new V1.IssuedCredentialInfo
        {
            CredentialId = c.Id,
            CredentialConfigurationId = c.ConfigurationId,
            Format = c.Format,
            HolderKeyThumbprint = c.HolderKeyThumbprint,
            IssueTime = Timestamp.FromDateTimeOffset(c.IssuedAt),
            ExpireTime = Timestamp.FromDateTimeOffset(c.ExpiresAt),
            NotificationEvent = c.NotificationEvent ?? "",
            NotifyTime = c.NotifiedAt.ToTimestamp(),
        }));
        return proto;
    }
}
