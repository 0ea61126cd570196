//! Module loading (`use std::...`, `use "./file.evo"`), import cycles, and the scope of each module.

use indexmap::IndexMap;

use super::Symbol;
use crate::ast::{self, Ident, Item, UseTarget};
use crate::builtins;
use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::span::{SourceMap, Span};
use crate::stdlib;
use crate::suggest::did_you_mean;

/// Reads the files a program imports. The CLI reads the file system; tests can serve memory.
pub trait Loader {
    /// The text of the file at `path` (already joined to the importing file's folder).
    fn read(&self, path: &str) -> Result<String, String>;
    /// Whether a file exists at `path` (for non-text files such as `.wasm`).
    fn exists(&self, path: &str) -> bool;
    /// An environment variable, for `~` and `${NAME}` in data paths; none by default, so a
    /// loader that gives no environment makes such paths an error rather than a guess.
    fn var(&self, _name: &str) -> Option<String> {
        None
    }
}

/// A loader with no files and no environment: for programs that import nothing and read no
/// data (benches, fuzzing, tests of blocks).
pub struct NoFiles;

impl Loader for NoFiles {
    fn read(&self, path: &str) -> Result<String, String> {
        Err(format!("no files here (`{path}`)"))
    }

    fn exists(&self, _: &str) -> bool {
        false
    }
}

/// One loaded module.
pub(crate) struct LoadedModule {
    /// `std::models`, or the file stem for user files.
    pub name: String,
    /// The path it was read from (joined, normalised), used to resolve relative paths.
    pub path: String,
    pub is_std: bool,
    pub ast: Option<ast::Module>,
    pub scope: IndexMap<String, Symbol>,
}

impl LoadedModule {
    /// Its items; none if it did not parse.
    pub fn items(&self) -> &[Item] {
        self.ast.as_ref().map_or(&[], |m| &m.items)
    }
}

/// Every module of a program; the main file is module 0.
pub(crate) struct ModuleSet {
    modules: Vec<LoadedModule>,
}

impl ModuleSet {
    pub fn len(&self) -> usize {
        self.modules.len()
    }

    pub fn get(&self, index: usize) -> &LoadedModule {
        &self.modules[index]
    }

    /// Loads the main file, the stdlib and every file import, and builds each module's scope.
    pub fn load(
        main_path: &str,
        main_text: &str,
        loader: &dyn Loader,
        sources: &mut SourceMap,
        diags: &mut Vec<Diagnostic>,
    ) -> Self {
        let mut set = ModuleSet { modules: Vec::new() };
        let stem =
            std::path::Path::new(main_path).file_stem().map_or("main".into(), |s| s.to_string_lossy().into_owned());
        set.add(stem, normalize(main_path), main_text.to_string(), false, sources, diags);
        for (rel, text) in stdlib::modules() {
            let name = format!("std::{}", rel.trim_end_matches(".evo").replace('/', "::"));
            set.add(name, format!("{}/{rel}", stdlib::ROOT), text.to_string(), true, sources, diags);
        }
        let mut stack = vec![0];
        set.visit_imports(0, loader, sources, diags, &mut stack);
        for module in 0..set.modules.len() {
            set.build_local_scope(module, diags);
        }
        for module in 0..set.modules.len() {
            set.build_imports(module, diags);
        }
        set
    }

    fn add(
        &mut self,
        name: String,
        path: String,
        text: String,
        is_std: bool,
        sources: &mut SourceMap,
        diags: &mut Vec<Diagnostic>,
    ) -> usize {
        let file = sources.add(path.clone(), text);
        let ast = match crate::parse::parse(file, &sources.get(file).text) {
            Ok(m) => Some(m),
            Err(errors) => {
                diags.extend(errors);
                None
            }
        };
        self.modules.push(LoadedModule { name, path, is_std, ast, scope: IndexMap::new() });
        self.modules.len() - 1
    }

    fn visit_imports(
        &mut self,
        module: usize,
        loader: &dyn Loader,
        sources: &mut SourceMap,
        diags: &mut Vec<Diagnostic>,
        stack: &mut Vec<usize>,
    ) {
        let uses: Vec<(String, Span)> = self.modules[module]
            .items()
            .iter()
            .filter_map(|i| match i {
                Item::Use(ast::UseDecl { target: UseTarget::File { path, span }, .. }) => Some((path.clone(), *span)),
                _ => None,
            })
            .collect();
        for (rel, span) in uses {
            let path = join(&self.modules[module].path, &rel);
            if let Some(existing) = self.modules.iter().position(|m| !m.is_std && m.path == path) {
                if let Some(pos) = stack.iter().position(|&m| m == existing) {
                    let mut cycle: Vec<String> = stack[pos..].iter().map(|&m| self.modules[m].path.clone()).collect();
                    cycle.push(path.clone());
                    diags.push(
                        Diagnostic::new(ErrorKind::ImportCycle { cycle: cycle.join(" → ") }, span)
                            .help("move what both files need into a third file that imports neither"),
                    );
                }
                continue;
            }
            let text = match loader.read(&path) {
                Ok(text) => text,
                Err(reason) => {
                    diags.push(Diagnostic::new(ErrorKind::ModuleNotFound { path, reason }, span));
                    continue;
                }
            };
            let stem =
                std::path::Path::new(&path).file_stem().map_or("module".into(), |s| s.to_string_lossy().into_owned());
            let index = self.add(stem, path, text, false, sources, diags);
            stack.push(index);
            self.visit_imports(index, loader, sources, diags, stack);
            stack.pop();
        }
    }

    fn build_local_scope(&mut self, module: usize, diags: &mut Vec<Diagnostic>) {
        let mut scope: IndexMap<String, Symbol> = IndexMap::new();
        let mut first: IndexMap<String, Span> = IndexMap::new();
        for (index, item) in self.modules[module].items().iter().enumerate() {
            let Some(name) = item.name() else { continue };
            if let Some(prev) = first.get(&name.name) {
                diags.push(
                    Diagnostic::new(ErrorKind::Duplicate { name: name.name.clone() }, name.span)
                        .label(*prev, "first defined here")
                        .help("rename one of them"),
                );
                continue;
            }
            first.insert(name.name.clone(), name.span);
            scope.insert(name.name.clone(), Symbol::Item { module, index });
        }
        self.modules[module].scope = scope;
    }

    fn build_imports(&mut self, module: usize, diags: &mut Vec<Diagnostic>) {
        let uses: Vec<ast::UseDecl> = self.modules[module]
            .items()
            .iter()
            .filter_map(|i| match i {
                Item::Use(u) => Some(u.clone()),
                _ => None,
            })
            .collect();
        for decl in uses {
            let imports: Vec<(Ident, Ident, Option<Symbol>)> = match &decl.target {
                UseTarget::File { path, .. } => {
                    let path = join(&self.modules[module].path, path);
                    let Some(target) = self.modules.iter().position(|m| !m.is_std && m.path == path) else { continue };
                    match &decl.names {
                        None => {
                            let span = decl.span;
                            self.modules[target]
                                .items()
                                .iter()
                                .filter_map(|i| i.name())
                                .map(|n| {
                                    let ident = Ident { name: n.name.clone(), span };
                                    let symbol = self.modules[target].scope.get(&n.name).copied();
                                    (ident.clone(), ident, symbol)
                                })
                                .collect()
                        }
                        Some(names) => names
                            .iter()
                            .map(|n| {
                                let symbol = self.modules[target].scope.get(&n.name.name).copied();
                                if symbol.is_none() {
                                    let help = did_you_mean(
                                        &n.name.name,
                                        self.modules[target].scope.keys().map(String::as_str),
                                    );
                                    diags.push(
                                        Diagnostic::new(
                                            ErrorKind::UnknownImport {
                                                module: path.clone(),
                                                name: n.name.name.clone(),
                                            },
                                            n.name.span,
                                        )
                                        .maybe_help(help),
                                    );
                                }
                                (n.name.clone(), n.alias.clone().unwrap_or_else(|| n.name.clone()), symbol)
                            })
                            .collect(),
                    }
                }
                UseTarget::Path(segments) => {
                    let (module_path, names): (String, Vec<(Ident, Ident)>) = match &decl.names {
                        Some(names) => (
                            ast::path_string(segments),
                            names
                                .iter()
                                .map(|n| (n.name.clone(), n.alias.clone().unwrap_or_else(|| n.name.clone())))
                                .collect(),
                        ),
                        None if self.names_in_module(&ast::path_string(segments)).is_some() => {
                            let module_path = ast::path_string(segments);
                            let first = self.names_in_module(&module_path).and_then(|n| n.first().cloned());
                            let example = first.unwrap_or_else(|| "name".into());
                            diags.push(
                                Diagnostic::new(
                                    ErrorKind::NotAllowedHere {
                                        what: format!("the whole module `{module_path}`"),
                                        context: "a `use`",
                                    },
                                    segments[0].span.to(segments[segments.len() - 1].span),
                                )
                                .help(format!(
                                    "import items by name, `use {module_path}::{{{example}}}`, or write \
                                     `{module_path}::{example}` where you need it"
                                )),
                            );
                            continue;
                        }
                        None if segments.len() >= 2 => {
                            let last = segments.last().unwrap().clone();
                            let alias = decl.alias.clone().unwrap_or_else(|| last.clone());
                            (ast::path_string(&segments[..segments.len() - 1]), vec![(last, alias)])
                        }
                        None => {
                            diags.push(
                                Diagnostic::new(
                                    ErrorKind::UnknownModule { path: ast::path_string(segments) },
                                    decl.span,
                                )
                                .help("import items by name, e.g. `use std::models::{bpr_mf}`"),
                            );
                            continue;
                        }
                    };
                    let Some(names_there) = self.names_in_module(&module_path) else {
                        let span = segments[0].span.to(segments[segments.len() - 1].span);
                        let known: Vec<String> = self.std_module_names();
                        let help = did_you_mean(&module_path, known.iter().map(String::as_str));
                        diags.push(
                            Diagnostic::new(ErrorKind::UnknownModule { path: module_path }, span).maybe_help(help),
                        );
                        continue;
                    };
                    names
                        .into_iter()
                        .map(|(name, alias)| {
                            let symbol = self.lookup_in_module(&module_path, &name.name);
                            if symbol.is_none() {
                                let help = did_you_mean(&name.name, names_there.iter().map(String::as_str));
                                diags.push(
                                    Diagnostic::new(
                                        ErrorKind::UnknownImport {
                                            module: module_path.clone(),
                                            name: name.name.clone(),
                                        },
                                        name.span,
                                    )
                                    .maybe_help(help),
                                );
                            }
                            (name, alias, symbol)
                        })
                        .collect()
                }
            };
            for (_, alias, symbol) in imports {
                let Some(symbol) = symbol else { continue };
                if let Some(Symbol::Item { module: m, index }) = self.modules[module].scope.get(&alias.name).copied() {
                    if m == module {
                        let prev = self.modules[m].items()[index].name().unwrap().span;
                        diags.push(
                            Diagnostic::new(ErrorKind::Duplicate { name: alias.name.clone() }, alias.span)
                                .label(prev, "also defined here")
                                .help("import it under another name with `as`"),
                        );
                        continue;
                    }
                }
                self.modules[module].scope.insert(alias.name.clone(), symbol);
            }
        }
    }

    fn std_module_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.modules.iter().filter(|m| m.is_std).map(|m| m.name.clone()).collect();
        for s in builtins::all() {
            if s.module != builtins::PRELUDE && !names.iter().any(|n| n == s.module) {
                names.push(s.module.to_string());
            }
        }
        names
    }

    /// An item of the module at `module_path` (`std::models`): a `.evo` item or a built-in.
    fn lookup_in_module(&self, module_path: &str, name: &str) -> Option<Symbol> {
        if let Some(m) = self.modules.iter().position(|m| m.is_std && m.name == module_path) {
            if let Some(Symbol::Item { module, index }) = self.modules[m].scope.get(name).copied() {
                if module == m {
                    return Some(Symbol::Item { module, index });
                }
            }
        }
        builtins::lookup(module_path, name).map(Symbol::Builtin)
    }

    /// Resolves a path written in `module`.
    pub fn lookup(&self, module: usize, path: &[Ident]) -> Option<Symbol> {
        match path {
            [one] => self.modules[module]
                .scope
                .get(&one.name)
                .copied()
                .or_else(|| builtins::lookup(builtins::PRELUDE, &one.name).map(Symbol::Builtin)),
            [init @ .., last] => self.lookup_in_module(&ast::path_string(init), &last.name),
            [] => None,
        }
    }

    /// Every name visible in `module` without qualification.
    pub fn names_in_scope(&self, module: usize) -> Vec<String> {
        let mut names: Vec<String> = self.modules[module].scope.keys().cloned().collect();
        names.extend(builtins::all().iter().filter(|s| s.module == builtins::PRELUDE).map(|s| s.name.to_string()));
        names
    }

    /// For a name not in scope: the stdlib item it is, or most likely meant, and how to import it.
    pub fn suggest_import(&self, name: &str) -> Option<String> {
        let mut items: Vec<(String, String)> = builtins::all()
            .iter()
            .filter(|s| s.module != builtins::PRELUDE)
            .map(|s| (s.module.to_string(), s.name.to_string()))
            .collect();
        for m in self.modules.iter().filter(|m| m.is_std) {
            items.extend(m.items().iter().filter_map(|i| i.name()).map(|n| (m.name.clone(), n.name.clone())));
        }
        let (module, item) = match items.iter().find(|(_, n)| n == name) {
            Some(found) => found.clone(),
            None => {
                let close = crate::suggest::closest(name, items.iter().map(|(_, n)| n.as_str()))?.to_string();
                items.into_iter().find(|(_, n)| *n == close)?
            }
        };
        let verb = if item == name { "is" } else { "did you mean" };
        Some(match verb {
            "is" => format!("`{item}` is in `{module}`: add `use {module}::{{{item}}}`"),
            _ => format!("did you mean `{item}`? It is in `{module}`: add `use {module}::{{{item}}}`"),
        })
    }

    /// The names a module defines, or `None` if there is no such module.
    pub fn names_in_module(&self, module_path: &str) -> Option<Vec<String>> {
        let mut names: Vec<String> = Vec::new();
        let mut exists = false;
        if let Some(m) = self.modules.iter().find(|m| m.is_std && m.name == module_path) {
            exists = true;
            names.extend(m.items().iter().filter_map(|i| i.name()).map(|n| n.name.clone()));
        }
        for s in builtins::all().iter().filter(|s| s.module == module_path) {
            exists = true;
            names.push(s.name.to_string());
        }
        exists.then_some(names)
    }
}

/// `base_file`'s folder joined with `rel`, with `.` and `..` folded lexically (no I/O).
pub fn join(base_file: &str, rel: &str) -> String {
    let rel_path = std::path::Path::new(rel);
    if rel_path.is_absolute() {
        return normalize(rel);
    }
    let dir = std::path::Path::new(base_file).parent().unwrap_or(std::path::Path::new(""));
    normalize(&dir.join(rel_path).to_string_lossy())
}

/// Folds `.` and `..` in a path without touching the file system.
pub fn normalize(path: &str) -> String {
    use std::path::Component;
    let mut out: Vec<String> = Vec::new();
    let mut absolute = false;
    for c in std::path::Path::new(path).components() {
        match c {
            Component::RootDir => absolute = true,
            Component::CurDir => {}
            Component::ParentDir => {
                if out.last().is_some_and(|l| l != "..") {
                    out.pop();
                } else if !absolute {
                    out.push("..".into());
                }
            }
            Component::Normal(s) => out.push(s.to_string_lossy().into_owned()),
            Component::Prefix(p) => out.push(p.as_os_str().to_string_lossy().into_owned()),
        }
    }
    let joined = out.join("/");
    if absolute {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}
