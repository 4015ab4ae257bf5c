/**
 * How the bundles are compiled (vm.Script, so a code cache can be given and
 * made): the main bundle as a function of the first stage's names, the
 * broker's as a function of its own Script and its init. A cache is valid for exactly
 * these strings, so the connecting side compiles the same ones.
 */
export const MAIN_WRAPPER = ['(function(require,J,P,C,I,K,S,B){', '\n})'] as const;
export const BROKER_WRAPPER = ['(function(S,D){', '\n})'] as const;
