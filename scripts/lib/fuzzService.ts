/** The service (`src/service/main.ts`) with the fuzz run's network guard loaded first. */
import './fuzzNetworkGuard';
import '../../src/service/main';
