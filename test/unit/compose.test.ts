import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { CONFIG_KEYS } from '../../src/config';
import { SEARCH_ATTRIBUTE_REGISTRATIONS } from '../../src/shared/searchAttributes';

// docker-compose.yml cannot run here (no Docker engine), so its agreement with the code is checked.
const root = path.resolve(__dirname, '../..');
const compose = YAML.parse(fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true });
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

describe('docker-compose.yml', () => {
  test('when the API and worker are configured, then every variable is one the code reads', () => {
    for (const service of ['api', 'worker']) {
      const env = Object.keys(compose.services[service].environment);
      expect(env.length).toBeGreaterThan(3);
      expect(env.filter((k) => !(CONFIG_KEYS as string[]).includes(k))).toEqual([]);
    }
  });

  test('when Temporal starts, then the same search attributes as the embedded stack are registered', () => {
    const command = compose.services['temporal-search-attributes'].command.join(' ');
    for (const registration of SEARCH_ATTRIBUTE_REGISTRATIONS) {
      const [name, type] = registration.split('=');
      expect(command).toContain(`--name ${name} --type ${type}`);
    }
  });

  test('when a newcomer reads the README, then every configuration variable is documented', () => {
    expect(CONFIG_KEYS.filter((k) => !readme.includes(`\`${k}\``))).toEqual([]);
  });
});
