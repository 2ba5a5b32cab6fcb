import { checkTargetUrl, isIpAddress, isPrivateAddress } from '../../../src/webhooks/urlSafety';

describe('isPrivateAddress', () => {
  const privateOnes = [
    '127.0.0.1',
    '127.255.0.9',
    '0.0.0.0',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '224.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    '[::1]',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '0:0:0:0:0:0:0:1',
    '::127.0.0.1',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1%eth0',
    'fec0::1',
    'ff02::1',
    '64:ff9b::7f00:1',
    '2002:7f00:1::',
    '2001:db8::1',
    'not-an-ip',
    '1.2.3',
    '1:2:3:4:5:6:7:8:9',
  ];
  const publicOnes = [
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '192.169.0.1',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ];

  test.each(privateOnes)('when the address is %s, then it is private', (ip) => {
    expect(isPrivateAddress(ip)).toBe(true);
  });

  test.each(publicOnes)('when the address is %s, then it is public', (ip) => {
    expect(isPrivateAddress(ip)).toBe(false);
  });

  test('when text is a host name, then it is not an IP address', () => {
    expect(isIpAddress('example.com')).toBe(false);
    expect(isIpAddress('1.2.3.4')).toBe(true);
    expect(isIpAddress('[2001:db8::1]')).toBe(true);
  });
});

describe('checkTargetUrl', () => {
  const refused: [string, RegExp][] = [
    ['http://localhost:8080/hook', /localhost/],
    ['http://LOCALHOST./hook', /localhost/],
    ['http://api.localhost/hook', /localhost/],
    ['http://127.0.0.1/hook', /private/],
    ['http://2130706433/hook', /private/],
    ['http://0x7f.1/hook', /private/],
    ['http://[::1]/hook', /private/],
    ['http://[::ffff:127.0.0.1]/hook', /private/],
    ['http://169.254.169.254/latest/meta-data', /private/],
    ['http://10.0.0.5/hook', /private/],
    ['http://[fd00::1]/hook', /private/],
    ['http://0/hook', /private/],
  ];

  test.each(refused)('when the URL is %s and private targets are not allowed, then it is refused', (url, reason) => {
    expect(checkTargetUrl(url, false)).toMatch(reason);
  });

  test.each(refused)('when the URL is %s and private targets are allowed, then it is accepted', (url) => {
    expect(checkTargetUrl(url, true)).toBeNull();
  });

  test('when the URL is public http(s), then it is accepted', () => {
    expect(checkTargetUrl('https://hooks.example.com/a?b=c', false)).toBeNull();
    expect(checkTargetUrl('http://8.8.8.8:8080/', false)).toBeNull();
  });

  test('when the URL is not absolute http(s) or has credentials, then it is refused even with private allowed', () => {
    expect(checkTargetUrl('/relative', true)).toMatch(/absolute/);
    expect(checkTargetUrl('ftp://example.com/', true)).toMatch(/http or https/);
    expect(checkTargetUrl('https://user:pw@example.com/', true)).toMatch(/credentials/);
    expect(checkTargetUrl(`https://example.com/${'a'.repeat(3000)}`, true)).toMatch(/at most/);
  });
});
