/** Imported before the broker starts (master-broker.ts): the master's module source in its slot. */
import { masterModuleSource } from './module-source.js';
import { provideMasterSource } from '../../actors/master-source-slot.js';

provideMasterSource(masterModuleSource);
