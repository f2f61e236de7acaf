"""A strict parser of the Prometheus text exposition format 0.0.4, for
the tests of wsproxy(1) METRICS.  parse(text) returns
{family: {'type', 'help', 'samples': {(name, labels): value}}} or raises
ValueError naming the first thing wrong:

  - every line ends with \\n; no blank lines;
  - # HELP and # TYPE once per family, both before its first sample;
  - the samples of a family are together, not interleaved with another's;
  - names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
    [a-zA-Z_][a-zA-Z0-9_]* (not __*); label values are quoted with only
    \\\\, \\" and \\n escaped; no label twice; no series twice;
  - values are floats (+Inf, -Inf, NaN allowed), counters not negative;
  - counters are named *_total; histograms have _bucket series with an
    le label whose values rise to +Inf, cumulative counts that never
    fall, and _sum and _count, with _count equal to the +Inf bucket.
"""
import math
import re

NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*$')
LABEL = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*$')
TYPES = ('counter', 'gauge', 'histogram', 'summary', 'untyped')


def _value(s):
    if s in ('+Inf', 'Inf'):
        return math.inf
    if s == '-Inf':
        return -math.inf
    if s == 'NaN':
        return math.nan
    if not re.match(r'[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$', s):
        raise ValueError('bad value %r' % s)
    return float(s)


def _labels(s, line):
    """'{a="x",b="y"}' body -> tuple of (name, value) pairs."""
    out, i = [], 0
    while i < len(s):
        m = re.match(r'([^=]+)="', s[i:])
        if not m:
            raise ValueError('bad labels in %r' % line)
        name = m.group(1)
        if not LABEL.match(name) or name.startswith('__'):
            raise ValueError('bad label name %r in %r' % (name, line))
        i += m.end()
        val = []
        while True:
            if i >= len(s):
                raise ValueError('unterminated label value in %r' % line)
            c = s[i]
            if c == '\\':
                nxt = s[i + 1:i + 2]
                if nxt not in ('\\', '"', 'n'):
                    raise ValueError('bad escape in %r' % line)
                val.append({'\\': '\\', '"': '"', 'n': '\n'}[nxt])
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == '\n':
                raise ValueError('newline in a label value: %r' % line)
            else:
                val.append(c)
                i += 1
        if any(n == name for n, _ in out):
            raise ValueError('label %s twice in %r' % (name, line))
        out.append((name, ''.join(val)))
        if i < len(s):
            if s[i] != ',':
                raise ValueError('no comma between labels in %r' % line)
            i += 1
    return tuple(out)


def _family_of(name, families):
    for suffix in ('_bucket', '_sum', '_count'):
        if name.endswith(suffix) and name[:-len(suffix)] in families and \
                families[name[:-len(suffix)]]['type'] in ('histogram', 'summary'):
            return name[:-len(suffix)]
    return name


def parse(text):
    if not text.endswith('\n'):
        raise ValueError('the text does not end with a newline')
    families, order, current = {}, [], None
    seen = set()
    for line in text[:-1].split('\n'):
        if line == '':
            raise ValueError('blank line')
        if line.startswith('#'):
            parts = line.split(' ', 3)
            if len(parts) >= 3 and parts[1] in ('HELP', 'TYPE'):
                name = parts[2]
                if not NAME.match(name):
                    raise ValueError('bad family name %r' % name)
                f = families.setdefault(name, {'type': None, 'help': None, 'samples': {}})
                if f['samples']:
                    raise ValueError('%s %s after its samples' % (parts[1], name))
                key = parts[1].lower()
                if f[key] is not None:
                    raise ValueError('%s %s twice' % (parts[1], name))
                if key == 'type':
                    if len(parts) != 4 or parts[3] not in TYPES:
                        raise ValueError('bad TYPE line %r' % line)
                    f['type'] = parts[3]
                else:
                    if len(parts) != 4 or not parts[3].strip():
                        raise ValueError('empty HELP for %s' % name)
                    f['help'] = parts[3]
                if name not in order:
                    order.append(name)
                current = name
            continue
        m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$', line)
        if not m:
            raise ValueError('bad sample line %r' % line)
        name = m.group(1)
        labels = _labels(m.group(3), line) if m.group(2) else ()
        fam = _family_of(name, families)
        if fam not in families or families[fam]['type'] is None or \
                families[fam]['help'] is None:
            raise ValueError('sample %r before its HELP and TYPE' % line)
        if fam != current:
            raise ValueError('samples of %s are not together (%r)' % (fam, line))
        key = (name, labels)
        if key in seen:
            raise ValueError('series twice: %r' % line)
        seen.add(key)
        v = _value(m.group(4))
        families[fam]['samples'][key] = v
    for name, f in families.items():
        if f['type'] is None or f['help'] is None:
            raise ValueError('%s lacks TYPE or HELP' % name)
        if f['type'] == 'counter':
            if not name.endswith('_total'):
                raise ValueError('counter %s is not named *_total' % name)
            for k, v in f['samples'].items():
                if v < 0 or math.isnan(v):
                    raise ValueError('counter %r is %r' % (k, v))
        if f['type'] == 'histogram':
            _check_histogram(name, f)
    return families


def _check_histogram(name, f):
    groups = {}
    for (n, labels), v in f['samples'].items():
        rest = tuple(kv for kv in labels if kv[0] != 'le')
        g = groups.setdefault(rest, {'buckets': [], 'sum': None, 'count': None})
        if n == name + '_bucket':
            le = dict(labels).get('le')
            if le is None:
                raise ValueError('%s_bucket without le' % name)
            g['buckets'].append((_value(le), v))
        elif n == name + '_sum':
            g['sum'] = v
        elif n == name + '_count':
            g['count'] = v
        else:
            raise ValueError('%s: unexpected series %s' % (name, n))
    for rest, g in groups.items():
        b = g['buckets']
        if not b or b[-1][0] != math.inf:
            raise ValueError('%s%r: no +Inf bucket last' % (name, rest))
        for (le0, c0), (le1, c1) in zip(b, b[1:]):
            if le1 <= le0:
                raise ValueError('%s%r: le not rising' % (name, rest))
            if c1 < c0:
                raise ValueError('%s%r: bucket counts fall' % (name, rest))
        if g['sum'] is None or g['count'] is None:
            raise ValueError('%s%r: no _sum or _count' % (name, rest))
        if g['count'] != b[-1][1]:
            raise ValueError('%s%r: _count %r != +Inf bucket %r' % (name, rest, g['count'], b[-1][1]))


def value(families, name, **labels):
    """The value of one series (0 when the family has no such series, as
    wsproxy leaves zero series of label sets out)."""
    fam = families.get(_family_of(name, families))
    if fam is None:
        raise KeyError('no family for %s' % name)
    want = set(labels.items())
    for (n, lab), v in fam['samples'].items():
        if n == name and set(lab) == want:
            return v
    return 0


def scrape_text(aport):
    """GET /metrics from wsproxy's --admin port: the text (must be 200)."""
    import lib
    s = lib.connect(aport)
    try:
        s.sendall(b'GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n')
        r, _ = lib.read_response(s, 5)
        lib.check(r.status == 200, '/metrics: %r' % r)
        return r.body.decode()
    finally:
        s.close()


def scrape(aport):
    """GET /metrics, parsed strictly."""
    return parse(scrape_text(aport))
