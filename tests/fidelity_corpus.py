"""A corpus of what support replies really carry, each case inside an English support sentence.

Written for this project as facts about each syntax, with where it is documented; nothing here
is copied from those sources. Used by tests/integration/test_fidelity_corpus.py (real Apertium)
and bench/bench_fidelity.py (the report in docs/protection.md).

Each case: (family, source of the fact, the snippet, what must come back byte-exact). For
placeholders whose fallback or ICU messages are prose, only the code parts must come back.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Case:
    """One snippet in one sentence, and the strings the translation must carry as they are."""

    family: str
    source: str
    sentence: str
    keep: tuple[str, ...]


TEMPLATES = (
    "Please check {} and let us know if it works.",
    "We fixed the problem with {} this morning.",
    "Could you send us a picture of {} when you can?",
    "Thanks for waiting, {} is ready now.",
    "You will find {} in your account settings.",
    "If it still fails, reply with {} and we will look again.",
)

ZENDESK = "Zendesk placeholders reference (support.zendesk.com)"
FRESHDESK = "Freshdesk placeholders (support.freshdesk.com)"
INTERCOM = "Intercom: personalize messages with attributes and fallbacks"
HELPSCOUT = "Help Scout: variables in saved replies, with fallback="
CHATWOOT = "Chatwoot: variables in canned responses (Liquid)"
ZAMMAD = "Zammad admin docs: system/variables (ticket, config, ticket hook)"
OSTICKET = "osTicket docs: email template variables"
PYLON = "Pylon docs: trigger template variables"
GORGIAS = "Gorgias: macro variables"
HUBSPOT = "HubSpot: personalization tokens"
WEBLATE = "Weblate checks (weblate/checks/tests/test_format_checks.py): format families"
ICU = "ICU MessageFormat / FormatJS docs: plural, select, selectordinal"
AGENT = "identifiers support agents type (vendor docs: AWS/GCP regions, OS paths, errors)"

# (family, source, snippet, parts that must survive; None: the snippet itself)
_SNIPPETS: list[tuple[str, str, str, tuple[str, ...] | None]] = [
    # helpdesk placeholders
    ("template", ZENDESK, "{{ticket.id}}", None),
    ("template", ZENDESK, "{{ticket.requester.first_name}}", None),
    ("template", ZENDESK, "{{ticket.url}}", None),
    ("template", ZENDESK, "{{current_user.first_name}}", None),
    ("template", ZENDESK, "{{ticket.status}}", None),
    ("template", ZENDESK, "{% if ticket.status == 'solved' %}", None),
    ("template", ZENDESK, "{{ticket.organization.name}}", None),
    (
        "fallback",
        ZENDESK,
        '{{ticket.requester.first_name | default: "there"}}',
        ('{{ticket.requester.first_name | default: "', '"}}'),
    ),
    ("template", FRESHDESK, "{{ticket.id}}", None),
    ("template", FRESHDESK, "{{ticket.requester.name}}", None),
    ("template", FRESHDESK, "{{ticket.agent.name}}", None),
    ("template", FRESHDESK, "{{ticket.portal_url}}", None),
    (
        "fallback",
        INTERCOM,
        '{{first_name | fallback: "there"}}',
        ('{{first_name | fallback: "', '"}}'),
    ),
    (
        "fallback",
        INTERCOM,
        '{{company.name | fallback: "your team"}}',
        ('{{company.name | fallback: "', '"}}'),
    ),
    (
        "fallback",
        HELPSCOUT,
        "{%customer.firstName,fallback=there%}",
        ("{%customer.firstName,fallback=", "%}"),
    ),
    ("template", HELPSCOUT, "{%mailbox.email%}", None),
    ("template", HELPSCOUT, "{%conversation.number%}", None),
    ("template", HELPSCOUT, "{%user.firstName%}", None),
    ("template", CHATWOOT, "{{contact.name}}", None),
    ("template", CHATWOOT, "{{agent.name}}", None),
    ("template", CHATWOOT, "{{conversation.display_id}}", None),
    (
        "fallback",
        CHATWOOT,
        "{{ contact.first_name || 'there' }}",
        ("{{ contact.first_name || '", "' }}"),
    ),
    ("zammad", ZAMMAD, "#{ticket.number}", None),
    ("zammad", ZAMMAD, "#{ticket.customer.firstname}", None),
    ("zammad", ZAMMAD, "#{ticket.owner.fullname}", None),
    ("zammad", ZAMMAD, "#{config.fqdn}", None),
    ("zammad", ZAMMAD, "#{config.http_type}://#{config.fqdn}/#ticket/zoom/#{ticket.id}", None),
    ("zammad", ZAMMAD, "[Ticket#31001]", None),
    ("zammad", ZAMMAD, "Ticket#31002", None),
    ("format", OSTICKET, "%{ticket.number}", None),
    ("format", OSTICKET, "%{recipient.ticket_link}", None),
    ("template", PYLON, "{{ issue.requester.first_name }}", None),
    ("template", PYLON, "{{ issue.id }}", None),
    ("template", GORGIAS, "{{ticket.customer.firstname}}", None),
    ("template", HUBSPOT, "{{ contact.firstname }}", None),
    # format strings, by the families a translation platform's checks cover
    ("format", WEBLATE, "%s", None),
    ("format", WEBLATE, "%d", None),
    ("format", WEBLATE, "%1$s", None),
    ("format", WEBLATE, "%zd", None),
    ("format", WEBLATE, "%Lf", None),
    ("format", WEBLATE, "%1$tH", None),
    ("format", WEBLATE, "%lld", None),
    ("format", WEBLATE, "%5.2f", None),
    ("format", WEBLATE, "%(count)d", None),
    ("format", WEBLATE, "%@", None),
    ("format", WEBLATE, "%<name>s", None),
    ("format", WEBLATE, "%{name}", None),
    ("format", WEBLATE, "%#@files@", None),
    ("format", WEBLATE, "{0}", None),
    ("format", WEBLATE, "{name}", None),
    ("format", WEBLATE, "{0:.2f}", None),
    ("format", WEBLATE, "{0,1:N0}", None),
    ("format", WEBLATE, "{0,-10}", None),
    ("format", WEBLATE, "{0,number,integer}", None),
    ("format", WEBLATE, "{1,date,short}", None),
    ("format", WEBLATE, "%1", None),
    ("format", WEBLATE, "%L1", None),
    ("format", WEBLATE, "%2", None),
    ("format", WEBLATE, "${amount}", None),
    ("format", WEBLATE, "${user.name}", None),
    ("i18n", WEBLATE, "{{count}}", None),
    ("i18n", WEBLATE, "$t(common.save)", None),
    ("i18n", WEBLATE, "@:message.hello", None),
    ("i18n", WEBLATE, "@.lower:message.title", None),
    ("i18n", WEBLATE, ":name", None),
    ("i18n", WEBLATE, ":attribute", None),
    ("i18n", WEBLATE, "%days%", None),
    ("i18n", WEBLATE, "%name%", None),
    ("i18n", WEBLATE, "$(file)", None),
    ("i18n", WEBLATE, "~s", None),
    ("i18n", WEBLATE, "~p", None),
    ("format", WEBLATE, ":smile:", None),
    # ICU MessageFormat
    (
        "icu",
        ICU,
        "{count, plural, one {# message} other {# messages}}",
        ("{count, plural, one {", "} other {", "}}"),
    ),
    (
        "icu",
        ICU,
        "{count, plural, =0 {no files} one {# file} other {# files}}",
        ("{count, plural, =0 {", "} one {", "} other {", "}}"),
    ),
    (
        "icu",
        ICU,
        "{gender, select, female {her order} male {his order} other {their order}}",
        ("{gender, select, female {", "} male {", "} other {", "}}"),
    ),
    (
        "icu",
        ICU,
        "{place, selectordinal, one {#st} two {#nd} few {#rd} other {#th}}",
        ("{place, selectordinal, one {", "} two {", "} few {", "} other {", "}}"),
    ),
    (
        "icu",
        ICU,
        "{days, plural, offset:1 one {# day left} other {# days left}}",
        ("{days, plural, offset:1 one {", "} other {", "}}"),
    ),
    # identifiers agents type
    ("version", AGENT, "v2.7.1-beta", None),
    ("version", AGENT, "v3.0", None),
    ("version", AGENT, "1.4.0-rc.1", None),
    ("version", AGENT, "2.10.3", None),
    ("version", AGENT, "iOS 17.4.1", ("17.4.1",)),
    ("version", AGENT, "10.0.0.1", None),
    ("path", AGENT, "/var/log/acme/sync.log", None),
    ("path", AGENT, "/etc/acme/config.yml", None),
    ("path", AGENT, "~/Library/Application Support/Acme/logs", None),
    ("path", AGENT, "~/Downloads", None),
    ("path", AGENT, "C:\\Users\\jane\\AppData\\Local\\Acme", None),
    ("path", AGENT, "C:\\Program Files\\Acme\\acme.exe", None),
    ("path", AGENT, "%APPDATA%\\Acme\\logs", None),
    ("path", AGENT, "\\\\fileserver\\shared\\exports", None),
    ("path", AGENT, "src/app/main.py", None),
    ("path", AGENT, "./install.sh", None),
    ("domain", AGENT, "acme.example/status", None),
    ("domain", AGENT, "status.acme.io", None),
    ("domain", AGENT, "help.acme.com/billing", None),
    ("domain", AGENT, "localhost:8080", None),
    ("domain", AGENT, "api.acme.example:8443", None),
    ("url", AGENT, "https://acme.example/billing", None),
    ("url", AGENT, "https://acme.example/t/{{ticket.id}}?ref=mail", None),
    ("email", AGENT, "billing@acme.example", None),
    ("slug", AGENT, "eu-west-1", None),
    ("slug", AGENT, "us-east-1a", None),
    ("slug", AGENT, "ap-southeast-2", None),
    ("slug", AGENT, "europe-west1", None),
    ("slug", AGENT, "us-central1-a", None),
    ("slug", AGENT, "team-42", None),
    ("identifier", AGENT, "max_retry_count", None),
    ("identifier", AGENT, "ERR_CONNECTION_RESET", None),
    ("identifier", AGENT, "ERR_NAME_NOT_RESOLVED", None),
    ("identifier", AGENT, "firstName", None),
    ("identifier", AGENT, "userId", None),
    ("identifier", AGENT, "AcmeSync", None),
    ("identifier", AGENT, "config.yml", None),
    ("identifier", AGENT, "package.json", None),
    ("identifier", AGENT, "ticket.requester.email", None),
    ("identifier", AGENT, "HKEY_LOCAL_MACHINE\\SOFTWARE\\Acme", None),
    ("identifier", AGENT, "sk_test_4eC39HqLyjWDarjtT1zdp7dc", None),
    ("identifier", AGENT, "NODE_ENV=production", None),
    ("code", AGENT, "0x80070005", None),
    ("code", AGENT, "0x800F081F", None),
    ("code", AGENT, "1Z999AA10123456784", None),
    ("code", AGENT, "E1234", None),
    ("code", AGENT, "a3f9c2e", None),
    ("code", AGENT, "SKU-4821-BLK", None),
    ("code", AGENT, "HTTP 503", ("503",)),
    ("code", AGENT, "error 0xC004F074", ("0xC004F074",)),
    ("code", AGENT, "DE89 3704 0044 0532 0130 00", None),
    ("code", AGENT, "550e8400-e29b-41d4-a716-446655440000", None),
    ("code", AGENT, "00:1A:2B:3C:4D:5E", None),
    ("code", AGENT, "192.168.1.20", None),
    ("chord", AGENT, "Ctrl+Shift+R", None),
    ("chord", AGENT, "Cmd+Option+I", None),
    ("chord", AGENT, "Ctrl+Alt+Del", None),
    ("chord", AGENT, "Alt+F4", None),
    ("chord", AGENT, "⌘K", None),
    ("chord", AGENT, "Shift+Enter", None),
    ("mention", AGENT, "@support-team", None),
    ("mention", AGENT, "@jane.doe", None),
    ("hashtag", AGENT, "#billing-help", None),
    ("hashtag", AGENT, "#general", None),
    ("time", AGENT, "10:30 AM", None),
    ("time", AGENT, "9:00 PM", None),
    ("time", AGENT, "9pm", None),
    ("order", AGENT, "#48213", None),
    ("order", AGENT, "ORD-2024-0042", None),
    ("amount", AGENT, "$59.99", None),
    ("amount", AGENT, "30 ${amount}", ("${amount}",)),
    ("code", AGENT, "`acme sync --force`", None),
    ("tag", AGENT, "<bold>{firstName}</bold>", None),
    # more of each family, written after the rules: a check against fitting the rules to cases
    ("template", ZENDESK, "{{dc.welcome_message}}", None),
    ("template", ZENDESK, "{{ticket.comments_formatted}}", None),
    ("template", FRESHDESK, "{{ticket.requester.firstname}}", None),
    ("template", HELPSCOUT, "{%customer.email%}", None),
    (
        "fallback",
        HELPSCOUT,
        "{%customer.fullName,fallback=friend%}",
        ("{%customer.fullName,fallback=", "%}"),
    ),
    ("fallback", INTERCOM, '{{first_name|fallback:"there"}}', ('{{first_name|fallback:"', '"}}')),
    (
        "fallback",
        INTERCOM,
        "{{ user.name | fallback: 'friend' }}",
        ("{{ user.name | fallback: '", "' }}"),
    ),
    ("template", CHATWOOT, "{{contact.email}}", None),
    ("template", CHATWOOT, "{{ agent.first_name }}", None),
    ("zammad", ZAMMAD, "#{ticket.title}", None),
    ("zammad", ZAMMAD, "#{ticket.customer.email}", None),
    ("template", ZENDESK, "{{{ticket.description}}}", None),
    ("format", WEBLATE, "%(name)s", None),
    ("format", WEBLATE, "%.2f", None),
    ("format", WEBLATE, "%-5d", None),
    ("format", WEBLATE, "%+d", None),
    ("format", WEBLATE, "{count}", None),
    ("format", WEBLATE, "{0:N2}", None),
    ("format", WEBLATE, "%3$s", None),
    ("i18n", WEBLATE, "{{ count }}", None),
    ("i18n", WEBLATE, ":count", None),
    ("i18n", WEBLATE, "$t(errors.notFound)", None),
    (
        "icu",
        ICU,
        "{n, plural, one {{g, select, female {her file} other {their file}}} other {# files}}",
        ("{n, plural, one {{g, select, female {", "} other {", "}} other {", "}}"),
    ),
    (
        "icu",
        ICU,
        "{count, plural, =0 {nothing new} =1 {one new reply} other {# new replies}}",
        ("{count, plural, =0 {", "} =1 {", "} other {", "}}"),
    ),
    ("version", AGENT, "v12", None),
    ("version", AGENT, "v1.2.3+build.7", None),
    ("version", AGENT, "Android 14", ("14",)),
    ("version", AGENT, "macOS 14.4", ("14.4",)),
    ("version", AGENT, "build 2024.03.1", ("2024.03.1",)),
    ("path", AGENT, "/Users/jane/Desktop/report.pdf", None),
    ("path", AGENT, "../config/settings.json", None),
    ("path", AGENT, "D:\\Backups\\2024", None),
    ("path", AGENT, "/opt/acme/bin/acmectl", None),
    ("domain", AGENT, "acme.co.uk", None),
    ("domain", AGENT, "portal.acme.example/login", None),
    ("domain", AGENT, "db-01.internal", None),
    ("domain", AGENT, "mail.acme.com:587", None),
    ("slug", AGENT, "us-west-2", None),
    ("slug", AGENT, "eu-central-1", None),
    ("slug", AGENT, "asia-northeast1", None),
    ("identifier", AGENT, "retryCount", None),
    ("identifier", AGENT, "MAX_UPLOAD_SIZE", None),
    ("identifier", AGENT, "user_id", None),
    ("identifier", AGENT, "getUserById()", None),
    ("identifier", AGENT, "window.location.href", None),
    ("identifier", AGENT, "README.md", None),
    ("identifier", AGENT, "x86_64", None),
    ("code", AGENT, "0x0000007B", None),
    ("code", AGENT, "KB5034441", None),
    ("code", AGENT, "CVE-2024-3094", None),
    ("code", AGENT, "INC0012345", None),
    ("code", AGENT, "ACME-1234", None),
    ("code", AGENT, "arm64", None),
    ("code", AGENT, "IPv6", None),
    ("code", AGENT, "2FA", None),
    ("code", AGENT, "OAuth2", None),
    ("code", AGENT, "UTF-8", None),
    ("code", AGENT, "SHA-256", None),
    ("chord", AGENT, "Ctrl + C", None),
    ("chord", AGENT, "⌘⇧4", None),
    ("chord", AGENT, "Win+R", None),
    ("chord", AGENT, "Ctrl+Alt+T", None),
    ("mention", AGENT, "@jane", None),
    ("mention", AGENT, "@acme_support", None),
    ("hashtag", AGENT, "#outage", None),
    ("hashtag", AGENT, "#status-page", None),
    ("time", AGENT, "11am", None),
    ("time", AGENT, "2:45 pm", None),
    ("time", AGENT, "7 a.m.", None),
    ("email", AGENT, "jane.doe+billing@acme.example", None),
    ("code", AGENT, "`npm install acme`", None),
    ("amount", AGENT, "€1.299,00", None),
]


def cases() -> list[Case]:
    """Every snippet in one of the sentences, in order."""
    out = []
    for index, (family, source, snippet, keep) in enumerate(_SNIPPETS):
        sentence = TEMPLATES[index % len(TEMPLATES)].format(snippet)
        out.append(Case(family, source, sentence, keep if keep is not None else (snippet,)))
    return out


def damaged(case: Case, translated: str) -> list[str]:
    """What the translation lost or changed of what must come back (by plain search)."""
    return [part for part in case.keep if part not in translated]
