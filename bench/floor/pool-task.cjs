// The pool figure's task for piscina (the floor): the same work as the
// mitogen-ts side ships by source. piscina loads its tasks from a file.
module.exports = function spin(n) {
  let x = 0;
  for (let i = 0; i < n; i++) x = (x * 31 + i) % 1000003;
  return x;
};
